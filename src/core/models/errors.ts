import { APICallError, RetryError } from 'ai';
import { isTowerError, type ErrorCode } from '../../protocol/errors.js';

export type ModelErrorCode = Extract<
  ErrorCode,
  'model_http_error' | 'rate_limited' | 'context_too_long' | 'network_error' | 'model_error' | 'unknown_model'
>;

export interface ModelErrorInfo {
  code: ModelErrorCode;
  message: string;
}

const CONTEXT_PATTERN =
  /context[ _-]length|context window|maximum context|prompt is too long|too many tokens|input is too long|exceeds the context|context_length_exceeded/i;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ConnectionRefused',
  'ConnectionClosed',
  'FailedToOpenSocket',
]);

/** Walks an error's `cause` chain (and AggregateError members) looking for a socket-level failure. */
function isNetworkFailure(error: unknown, seen = new Set<unknown>()): boolean {
  if (!(error instanceof Error) || seen.has(error)) return false;
  seen.add(error);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return true;
  if (error.name === 'TimeoutError' || error.name === 'ConnectTimeoutError') return true;
  if (error instanceof AggregateError && error.errors.some((e) => isNetworkFailure(e, seen))) return true;
  return isNetworkFailure(error.cause, seen);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
}

function fromHttp(status: number, error: APICallError): ModelErrorInfo {
  const text = `${error.message} ${error.responseBody ?? ''}`;
  if (status === 429) {
    const retryAfter = error.responseHeaders?.['retry-after'];
    const hint = retryAfter ? ` (retry after ${retryAfter}s)` : '';
    return { code: 'rate_limited', message: `HTTP 429: ${error.message}${hint}` };
  }
  // 413 is "request too large": for a model call that means the prompt, whatever the wording.
  if (status === 413 || (status === 400 && CONTEXT_PATTERN.test(text))) {
    return { code: 'context_too_long', message: `HTTP ${status}: ${error.message}` };
  }
  return { code: 'model_http_error', message: `HTTP ${status}: ${error.message}` };
}

/**
 * Maps anything a model call can fail with to a stable code: HTTP statuses from `APICallError`,
 * socket failures anywhere in the cause chain, error events inside a stream (plain `{type, message}`
 * objects from the provider) and Tower's own errors.
 */
export function mapModelError(error: unknown): ModelErrorInfo {
  if (RetryError.isInstance(error)) return mapModelError(error.lastError);
  if (isTowerError(error)) {
    const code = error.code === 'unknown_model' ? 'unknown_model' : 'model_error';
    return { code, message: error.message };
  }
  if (APICallError.isInstance(error)) {
    if (error.statusCode !== undefined) return fromHttp(error.statusCode, error);
    if (isNetworkFailure(error)) return { code: 'network_error', message: error.message };
    return { code: 'model_error', message: error.message };
  }
  if (isNetworkFailure(error)) return { code: 'network_error', message: messageOf(error) };
  const message = messageOf(error);
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  if (type === 'rate_limit_error' || type === 'rate_limit_exceeded') return { code: 'rate_limited', message };
  if (CONTEXT_PATTERN.test(message)) return { code: 'context_too_long', message };
  return { code: 'model_error', message };
}
