import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { issuesOf, toErrorBody } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import { TowerError, isErrorCode, type ErrorCode } from '../../protocol/errors.js';

/**
 * The one place where error codes become HTTP statuses. Total over the codes, so a new code cannot
 * reach a client as an accidental 500.
 */
const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  path_outside_workspace: 400,
  unauthorized: 401,
  unknown_session: 404,
  not_found: 404,
  session_busy: 409,
  session_idle: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unknown_model: 422,
  idempotency_key_reused: 422,
  rate_limited: 429,
  steer_queue_full: 429,
  followup_queue_full: 429,
  tool_failed: 500,
  internal: 500,
  // Not 503: that status carries Retry-After, and a blind retry of this write may store it twice.
  commit_outcome_unknown: 500,
  model_http_error: 502,
  context_too_long: 502,
  network_error: 502,
  model_error: 502,
  not_ready: 503,
};

export function statusOf(code: string): ContentfulStatusCode {
  return isErrorCode(code) ? STATUS[code] : 500;
}

/** Answers with the error's `{code, message, issues?}` (from `toErrorBody`) and the status of its code. */
export function errorResponse(c: Context, err: unknown, logger?: Logger): Response {
  const body = toErrorBody(err instanceof HTTPException ? fromHttpException(err) : err);
  const status = statusOf(body.code);
  if (status >= 500 && status !== 503) logger?.error({ err }, 'request failed');
  // Full queues drain at the next model call or turn end: a short wait is the right advice.
  if (status === 429 || status === 503) c.header('Retry-After', '1');
  return c.json(body, status);
}

/** Hono raises these for bodies it cannot read (malformed JSON, wrong media type): the client's fault. */
function fromHttpException(err: HTTPException): TowerError {
  switch (err.status) {
    case 401:
      return new TowerError('unauthorized', err.message || 'Unauthorized');
    case 413:
      return new TowerError('payload_too_large', err.message || 'Request body is too large');
    case 415:
      return new TowerError('unsupported_media_type', 'Unsupported media type: send the request body as JSON (content-type: application/json)');
    default:
      return new TowerError('invalid_request', err.message || 'Bad request');
  }
}

const TARGETS: Record<string, string> = { json: 'request body', query: 'query', param: 'path', header: 'header', cookie: 'cookie' };

/** Validation failures of any request part (body, query, path, headers). */
export function validationError(c: Context, error: ZodError, target: string): Response {
  const where = TARGETS[target] ?? target;
  const first = error.issues[0];
  const at = first?.path.length ? `${first.path.map(String).join('.')}: ` : '';
  const message = `Invalid ${where}: ${at}${first?.message ?? 'bad input'}`;
  return errorResponse(c, new TowerError('invalid_request', message, { issues: issuesOf(error) }));
}

export function onError(logger: Logger) {
  return (err: Error, c: Context): Response => errorResponse(c, err, logger);
}
