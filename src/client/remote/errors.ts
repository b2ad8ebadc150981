/**
 * Why a remote call failed. `timeout`: no answer in time; `unsupported`: the instance has no such method
 * (Pando answers -32601 for state.sync and instance.info) or the transport cannot do it; `rpc`: the
 * instance answered with an error (`rpcCode`, and Tower's `{code, message}` in `data` when it sent one);
 * `protocol`: an answer that is not the documented shape; `closed`: the client was closed.
 */
export type RemoteErrorCode = 'timeout' | 'unsupported' | 'rpc' | 'protocol' | 'closed' | 'not_found';

export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly code: RemoteErrorCode,
    message: string,
    readonly details: { method?: string; rpcCode?: number; data?: unknown } = {},
  ) {
    super(message);
  }
}

export function isRemoteError(value: unknown, code?: RemoteErrorCode): value is RemoteError {
  return value instanceof RemoteError && (code === undefined || value.code === code);
}
