import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import type { ErrorBody } from '../../protocol/api.js';
import { isTowerError, type ErrorCode } from '../../protocol/errors.js';
import type { Logger } from '../../core/logger.js';

/** The one place where domain error codes become HTTP statuses. */
const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  invalid_request: 400,
  path_outside_workspace: 400,
  unauthorized: 401,
  unknown_session: 404,
  not_found: 404,
  session_busy: 409,
  session_idle: 409,
  conflict: 409,
  payload_too_large: 413,
  unknown_model: 422,
  idempotency_key_reused: 422,
  rate_limited: 429,
  steer_queue_full: 429,
  followup_queue_full: 429,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code] ?? 500;
}

export function errorJson(c: Context, status: ContentfulStatusCode, body: ErrorBody): Response {
  return c.json(body, status);
}

export function zodIssues(error: ZodError): NonNullable<ErrorBody['issues']> {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** Validation failures of any request part (body, query, params, headers). */
export function validationError(c: Context, error: ZodError, target: string): Response {
  return errorJson(c, 400, {
    code: 'invalid_request',
    message: `Invalid ${target}: ${error.issues[0]?.message ?? 'bad input'}`,
    issues: zodIssues(error),
  });
}

export function onError(logger: Logger) {
  return (err: Error, c: Context): Response => {
    if (isTowerError(err)) {
      const status = statusOf(err.code);
      if (status >= 500) logger.error({ err }, 'request failed');
      // Full queues drain at the next model call or turn end: a short wait is the right advice.
      if (status === 429) c.header('Retry-After', '1');
      return errorJson(c, status, { code: err.code, message: err.message });
    }
    if (err instanceof HTTPException) {
      // Hono raises these for malformed JSON bodies and the like: the client's fault, not ours.
      const status = err.status as ContentfulStatusCode;
      const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : 'invalid_request';
      return errorJson(c, status, { code, message: err.message || 'Bad request' });
    }
    logger.error({ err }, 'unhandled error');
    return errorJson(c, 500, { code: 'internal', message: 'Internal error' });
  };
}
