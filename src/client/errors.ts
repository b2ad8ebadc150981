import { ERROR_CODES, ErrorBody, type ErrorCode } from '../protocol/index.js';

export type ErrorIssue = NonNullable<ErrorBody['issues']>[number];

/**
 * The code of a `TowerApiError`: one of the server's stable codes, or `http_error` for an answer that
 * carried no Tower error body (a proxy's page) and whose status names no code.
 */
export type ApiErrorCode = ErrorCode | 'http_error';

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

function isErrorCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

/** The server answered with a non-2xx status; `code` is the stable error code of its `ErrorBody`. */
export class TowerApiError extends Error {
  override readonly name = 'TowerApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly issues?: ErrorIssue[],
    /**
     * How long the server asks the client to wait before trying again, from its `Retry-After` header
     * (a 429 for a full steer or follow-up queue sends 1). Undefined when the header is absent or invalid.
     */
    readonly retryAfterSeconds?: number,
    /**
     * The code exactly as the server sent it. It differs from `code` only when a newer server sends a code
     * this client does not know: `code` then falls back to the one the HTTP status implies.
     */
    readonly serverCode: string = code,
  ) {
    super(message);
  }

  /**
   * Builds the error from a response body. A body that is not an `ErrorBody` (a proxy's HTML page, an
   * empty 502) still yields a usable error, with a code derived from the status. `retryAfter` is the raw
   * `Retry-After` header, if any.
   */
  static fromResponse(status: number, statusText: string, bodyText: string, retryAfter?: string | null): TowerApiError {
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      json = undefined;
    }
    const retryAfterSeconds = parseRetryAfter(retryAfter);
    const parsed = ErrorBody.safeParse(json);
    if (parsed.success) {
      const { code, message, issues } = parsed.data;
      const known = isErrorCode(code) ? code : codeForStatus(status);
      return new TowerApiError(status, known, message, issues, retryAfterSeconds, code);
    }
    const text = bodyText.trim().slice(0, 200);
    return new TowerApiError(status, codeForStatus(status), text || statusText || `HTTP ${status}`, undefined, retryAfterSeconds);
  }
}

/**
 * A `Retry-After` value in whole seconds: delay-seconds as given, an HTTP date as the seconds left until
 * it (0 once past). Undefined for a missing or malformed header.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 400:
      return 'invalid_request';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'internal' : 'http_error';
  }
}

/** Tower could not be reached at all (connection refused, DNS failure, reset before any response). */
export class TowerConnectionError extends Error {
  override readonly name = 'TowerConnectionError';
  constructor(
    readonly url: string,
    /** The system error code when there is one (`ECONNREFUSED`, `ENOTFOUND`, ...). */
    readonly errno: string | undefined,
    /** The most specific description found: the errno, else the innermost cause's message. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach Tower at ${url} (${reason})`, options);
  }

  /** Wraps a rejected `fetch`, digging the system error out of undici's `cause` chain. */
  static fromFetchFailure(url: string, error: unknown): TowerConnectionError {
    const chain = causeChain(error);
    const errno = chain.map((e) => (e as { code?: unknown }).code).find((code) => typeof code === 'string');
    const reason = errno ?? chain.at(-1)?.message ?? String(error);
    return new TowerConnectionError(url, errno, reason, { cause: error });
  }
}

/** The server answered 2xx but the body does not match the protocol: a version mismatch or a bug. */
export class TowerProtocolError extends Error {
  override readonly name = 'TowerProtocolError';
}

/** The error and its causes, outermost first; undici reports tried addresses as an AggregateError. */
function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error && chain.length < 5) {
    chain.push(current);
    current = current instanceof AggregateError && current.errors.length > 0 ? current.errors[0] : current.cause;
  }
  return chain;
}

/** True for the abort a caller asked for, however fetch or a timer surfaced it. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
