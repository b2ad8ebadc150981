/**
 * Stable error codes. Domain code throws `TowerError` with one of these; each transport maps a code to its
 * own wire form (HTTP status, hub error frame, JSON-RPC error) in one place.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unknown_session',
  'unknown_model',
  'session_busy',
  'session_idle',
  'steer_queue_full',
  'followup_queue_full',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'not_found',
  'conflict',
  'idempotency_key_reused',
  'path_outside_workspace',
  'tool_failed',
  'model_http_error',
  'rate_limited',
  'context_too_long',
  'network_error',
  'model_error',
  /** Tower is starting (opening the store, recovering turns) or shutting down. */
  'not_ready',
  /**
   * A store write whose outcome cannot be known (Postgres answered neither the COMMIT nor, after it, the
   * check of the commit's mark): the write may or may not be stored. Never retried blindly, which could
   * store it twice; read the session's events to see whether it landed.
   */
  'commit_outcome_unknown',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class TowerError extends Error {
  override readonly name = 'TowerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export function isTowerError(value: unknown): value is TowerError {
  return value instanceof TowerError;
}
