import type { Dealer } from 'zeromq';
import type { z } from 'zod';
import { METHOD_NOT_FOUND_MESSAGE, RpcCode, RpcResponse } from '../../protocol/pando-bus.js';
import { RemoteError } from './errors.js';
import { DEFAULT_CALL_TIMEOUT_MS } from './types.js';
import { loadZmq } from './zmq-load.js';

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * JSON-RPC over a DEALER, framed as Pando's Go client frames it (`[empty][json]`, string ids
 * `req-<unixnano>`). Unlike the Go client it matches answers by id, so an answer arriving after its call
 * timed out is dropped instead of being taken for the next call's.
 */
export class ZmqRpcClient {
  private readonly socket: Promise<Dealer>;
  private readonly pending = new Map<string, Pending>();
  private loop: Promise<void> | undefined;
  private closed = false;
  private counter = 0n;

  constructor(readonly endpoint: string) {
    this.socket = loadZmq().then((zmq) => {
      const socket = new zmq.Dealer({ linger: 0 });
      socket.connect(endpoint);
      this.loop = this.receive(socket);
      return socket;
    });
    // Marked handled here; each call awaits it and reports a failed load itself.
    this.socket.catch(() => undefined);
  }

  async call<S extends z.ZodType>(method: string, params: unknown, schema: S, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<z.output<S>> {
    if (this.closed) throw new RemoteError('closed', `${method}: client closed`, { method });
    this.counter += 1n;
    const id = `req-${process.hrtime.bigint() + this.counter}`;
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RemoteError('timeout', `${method}: no answer from ${this.endpoint} within ${timeoutMs} ms`, { method }));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
    });
    const socket = await this.socket;
    await socket.send([Buffer.alloc(0), JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} })]);
    const result = await answer;
    const parsed = schema.safeParse(result);
    if (!parsed.success) throw new RemoteError('protocol', `${method}: unexpected result shape: ${parsed.error.issues[0]?.message ?? ''}`, { method });
    return parsed.data;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RemoteError('closed', `${p.method}: client closed`, { method: p.method }));
    }
    this.pending.clear();
    (await this.socket).close();
    await this.loop;
  }

  private async receive(socket: Dealer): Promise<void> {
    try {
      for await (const frames of socket) this.onAnswer(frames.at(-1));
    } catch {
      // closed
    }
  }

  private onAnswer(frame: Buffer | undefined): void {
    let json: unknown;
    try {
      json = JSON.parse(frame?.toString('utf8') ?? '');
    } catch {
      return;
    }
    const parsed = RpcResponse.safeParse(json);
    if (!parsed.success || typeof parsed.data.id !== 'string') return;
    const pending = this.pending.get(parsed.data.id);
    if (!pending) return;
    this.pending.delete(parsed.data.id);
    clearTimeout(pending.timer);
    const { error, result } = parsed.data;
    if (!error) {
      pending.resolve(result);
      return;
    }
    const details = { method: pending.method, rpcCode: error.code, data: error.data };
    if (error.code === RpcCode.methodNotFound) {
      pending.reject(new RemoteError('unsupported', `${pending.method} is not available on this instance (${error.message || METHOD_NOT_FOUND_MESSAGE})`, details));
    } else {
      pending.reject(new RemoteError('rpc', error.message, details));
    }
  }
}
