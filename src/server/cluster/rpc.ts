import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import { TowerError, isErrorCode, isTowerError } from '../../protocol/errors.js';

/** What a node answers a forwarded command with: the result, or the error its command layer threw. */
export type RpcHandler = (name: string, params: unknown, from: string) => Promise<unknown>;

const Request = z.object({ kind: z.literal('request'), id: z.string(), from: z.string(), name: z.string(), params: z.unknown() });
const Reply = z.union([
  z.object({ kind: z.literal('reply'), id: z.string(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    kind: z.literal('reply'),
    id: z.string(),
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  }),
]);
/** One-way, no answer: a task's output chunk, a cancel. */
const Note = z.object({ kind: z.literal('note'), from: z.string(), name: z.string(), params: z.unknown() });
const Message = z.union([Request, Reply, Note]);

/** Hears one-way notes sent to this node (`from`: the sender). */
export type NoteHandler = (name: string, params: unknown, from: string) => void;

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * Request/reply between Tower nodes over Redis pub/sub: each node listens on its own channel
 * (`<prefix>:node:<id>`), a request names the sender, and the answer comes back on the sender's channel
 * matched by request id. A request nobody hears (the target is gone) or one not answered in time fails
 * with `not_ready`; errors of the remote command come back with their code, message and details.
 */
export class NodeRpc {
  private readonly pending = new Map<string, Pending>();
  private handler: RpcHandler | undefined;
  private noteHandler: NoteHandler | undefined;
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly node: string,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {
    sub.on('message', (channel: string, raw: string) => {
      if (channel === this.channel(node)) this.receive(raw);
    });
  }

  static async open(url: string, node: string, logger: Logger, prefix = 'tower'): Promise<NodeRpc> {
    const name = `tower-rpc-${node}`;
    const pub = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `${name}-pub` });
    const sub = new Redis(url, { lazyConnect: true, connectionName: `${name}-sub` });
    // Connection errors surface as failed calls (and are retried by ioredis); never as a process crash.
    pub.on('error', () => undefined);
    sub.on('error', () => undefined);
    try {
      await pub.connect();
      await sub.connect();
      const rpc = new NodeRpc(pub, sub, node, prefix, logger);
      await sub.subscribe(rpc.channel(node));
      return rpc;
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      throw new TowerError('internal', `cannot open the node channel on Redis: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Answers requests to this node with `handler`. */
  serve(handler: RpcHandler): void {
    this.handler = handler;
  }

  /** Hears notes sent to this node with `handler`. */
  onNote(handler: NoteHandler): void {
    this.noteHandler = handler;
  }

  /** Sends a one-way note to node `target`; false when nobody heard it (or Redis refused it). */
  async notify(target: string, name: string, params: unknown): Promise<boolean> {
    if (this.closed) return false;
    const heard = await this.pub.publish(this.channel(target), JSON.stringify({ kind: 'note', from: this.node, name, params })).catch(() => 0);
    return heard > 0;
  }

  /** Runs `name` on node `target` and returns its result (or throws its error). */
  async call(target: string, name: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) throw new TowerError('not_ready', 'Tower is shutting down');
    const id = randomUUID();
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TowerError('not_ready', `the node running this session did not answer within ${Math.round(timeoutMs / 1000)} s; the command may or may not have been applied (check the session's events)`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    let heard: number;
    try {
      heard = await this.pub.publish(this.channel(target), JSON.stringify({ kind: 'request', id, from: this.node, name, params }));
    } catch (err) {
      this.settle(id, undefined, new TowerError('not_ready', `cannot reach the node running this session (Redis: ${(err as Error).message}); retry`));
      return answer;
    }
    if (heard === 0) {
      this.settle(id, undefined, new TowerError('not_ready', 'the node running this session is not reachable (it may have stopped; its sessions are taken over once its lease expires); retry'));
    }
    return answer;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id] of this.pending) this.settle(id, undefined, new TowerError('not_ready', 'Tower is shutting down'));
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private channel(node: string): string {
    return `${this.prefix}:node:${node}`;
  }

  private receive(raw: string): void {
    let parsed: z.infer<typeof Message>;
    try {
      parsed = Message.parse(JSON.parse(raw));
    } catch {
      this.logger.warn('ignored a malformed message on the node channel');
      return;
    }
    if (parsed.kind === 'note') {
      try {
        this.noteHandler?.(parsed.name, parsed.params, parsed.from);
      } catch (err) {
        this.logger.warn({ err, note: parsed.name }, 'a note handler failed');
      }
      return;
    }
    if (parsed.kind === 'reply') {
      if (parsed.ok) this.settle(parsed.id, parsed.result);
      else {
        const { code, message, details } = parsed.error;
        this.settle(parsed.id, undefined, new TowerError(isErrorCode(code) ? code : 'internal', message, details));
      }
      return;
    }
    void this.answer(parsed);
  }

  private async answer(req: z.infer<typeof Request>): Promise<void> {
    let reply: z.infer<typeof Reply>;
    try {
      if (!this.handler) throw new TowerError('not_ready', 'this node does not take forwarded commands yet');
      reply = { kind: 'reply', id: req.id, ok: true, result: await this.handler(req.name, req.params, req.from) };
    } catch (err) {
      const error = isTowerError(err)
        ? { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) }
        : { code: 'internal', message: err instanceof Error ? err.message : String(err) };
      reply = { kind: 'reply', id: req.id, ok: false, error };
    }
    let text: string;
    try {
      text = JSON.stringify(reply);
    } catch {
      // Details that do not serialize (a cycle, a bigint) are left out; the code and message still go.
      const error = reply.ok ? { code: 'internal', message: 'the result could not be serialized' } : { code: reply.error.code, message: reply.error.message };
      text = JSON.stringify({ kind: 'reply', id: req.id, ok: false, error });
    }
    await this.pub.publish(this.channel(req.from), text).catch((err: unknown) => {
      this.logger.warn({ err, command: req.name }, 'could not answer a forwarded command');
    });
  }

  private settle(id: string, value: unknown, err?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err !== undefined) p.reject(err);
    else p.resolve(value);
  }
}
