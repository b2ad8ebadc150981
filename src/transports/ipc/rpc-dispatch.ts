import type { z } from 'zod';
import { toErrorBody } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import { isTowerError } from '../../protocol/errors.js';
import {
  MAX_RPC_FRAME_BYTES,
  METHOD_NOT_FOUND_MESSAGE,
  RpcCode,
  RpcRequest,
  type RpcError,
  type RpcId,
} from '../../protocol/pando-bus.js';

/** A JSON-RPC error a method handler throws on purpose (its code and message go to the client as is). */
export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface MethodSpec {
  params: z.ZodType;
  run(params: never): Promise<unknown>;
}
export type MethodTable = Readonly<Record<string, MethodSpec>>;

export type RpcAnswer = { jsonrpc: '2.0'; id: RpcId; result: unknown } | { jsonrpc: '2.0'; id: RpcId; error: RpcError };

const fail = (id: RpcId, code: number, message: string, data?: unknown): RpcAnswer => ({
  jsonrpc: '2.0',
  id,
  error: data === undefined ? { code, message } : { code, message, data },
});

/**
 * Turns one request frame into exactly one answer, whatever the frame holds. A request without an id is
 * still answered (id null): Pando's Go client reads the next frame on its socket as the answer, so a
 * request left unanswered would shift every later answer onto the wrong call.
 */
export async function dispatch(frame: Buffer, methods: MethodTable, logger: Logger): Promise<RpcAnswer> {
  if (frame.length > MAX_RPC_FRAME_BYTES) {
    logger.warn({ bytes: frame.length }, 'bus: request frame over 1 MiB refused');
    return fail(null, RpcCode.invalidRequest, `request too large: ${frame.length} bytes (limit ${MAX_RPC_FRAME_BYTES})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(frame.toString('utf8'));
  } catch {
    logger.debug('bus: request is not JSON');
    return fail(null, RpcCode.parseError, 'parse error: request is not valid JSON');
  }
  const parsed = RpcRequest.safeParse(json);
  if (!parsed.success) {
    logger.debug('bus: request is not JSON-RPC');
    return fail(idOf(json), RpcCode.invalidRequest, 'invalid request: expected a JSON-RPC 2.0 request object with a method');
  }
  const { method, params } = parsed.data;
  const id = parsed.data.id ?? null;
  const spec = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!spec) return fail(id, RpcCode.methodNotFound, METHOD_NOT_FOUND_MESSAGE);
  const checked = spec.params.safeParse(params ?? {});
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return fail(id, RpcCode.invalidParams, `${method}: invalid params: ${where}${issue?.message ?? 'bad input'}`);
  }
  try {
    const result = await spec.run(checked.data as never);
    return { jsonrpc: '2.0', id, result };
  } catch (err) {
    return failureOf(id, method, err, logger);
  }
}

function failureOf(id: RpcId, method: string, err: unknown, logger: Logger): RpcAnswer {
  if (err instanceof RpcFailure) return fail(id, err.code, err.message, err.data);
  const body = toErrorBody(err);
  if (!isTowerError(err)) logger.error({ err, method }, 'bus: method failed');
  const code = body.code === 'invalid_request' ? RpcCode.invalidParams : RpcCode.handlerError;
  return fail(id, code, `${method}: ${body.message}`, body);
}

function idOf(json: unknown): RpcId {
  if (typeof json !== 'object' || json === null || !('id' in json)) return null;
  const id = (json as { id: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
