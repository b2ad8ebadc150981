import type { RawData, WebSocket } from 'ws';
import { isCommandName, type CommandName } from '../../protocol/commands.js';
import { isTowerError } from '../../protocol/errors.js';
import type { CommandService } from '../../core/commands/index.js';
import { toErrorBody } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import { tokenMatches } from '../http/auth.js';
import { errorFrame, frame, isFailure, parseInbound, type HubErrorCode, type Inbound, type Topic } from './frames.js';
import { COMMAND_OPS, type HubOptions } from './options.js';
import { Outbox, type RawSocket } from './outbox.js';
import type { HubSubscriber } from './subscriber.js';
import type { Subscriptions } from './subscriptions.js';
import type { OutFrame } from './ws-frame.js';

const OWNER = new WeakMap<WebSocket, HubConnection>();
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  OWNER.get(this)?.onMessage(data, isBinary);
}
function onPong(this: WebSocket): void {
  const c = OWNER.get(this);
  if (c) c.lastSeen = Date.now();
}
function onEnd(this: WebSocket): void {
  OWNER.get(this)?.dispose();
}

const CLOSE_TOO_BIG = 1009;
const CLOSE_POLICY = 1008;

/**
 * One hub client. Holds only connection bookkeeping (auth, subscriptions, topics, rate window, backlog);
 * everything it does goes through the core services, like an HTTP request.
 */
export class HubConnection implements HubSubscriber {
  readonly outbox: Outbox;
  closed = false;
  authenticated: boolean;
  clientId: string | undefined;
  lastSeen = Date.now();
  // Allocated on first use: most connections never need some of them, and idle connections are many.
  private topicSet: Set<Topic> | undefined;
  private subMap: Map<string, { close(): void }> | undefined;
  private latest: Map<string, OutFrame> | undefined;
  private overflow: OutFrame[] | undefined;
  private windowStart = 0;
  private windowCount = 0;
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly deps: { options: HubOptions; commands: CommandService; subscriptions: Subscriptions; logger: Logger; onDispose?: (c: HubConnection) => void },
    init: { authenticated: boolean; clientId?: string; socket: RawSocket },
  ) {
    this.outbox = new Outbox(ws, deps.options.backlogLimit, init.socket);
    this.outbox.onRoom = this;
    this.authenticated = init.authenticated;
    this.clientId = init.clientId;
    if (!this.authenticated) {
      this.authTimer = setTimeout(() => this.fail('UNAUTHORIZED', 'no auth frame in time', CLOSE_POLICY), deps.options.authTimeoutMs);
      this.authTimer.unref();
    }
    // Shared listeners (no closures per connection: idle connections are many); `this` is the socket.
    OWNER.set(ws, this);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onEnd);
    ws.on('error', onEnd);
  }

  /** The broadcast topics this connection chose. */
  get topics(): Set<Topic> {
    return (this.topicSet ??= new Set());
  }

  /** Subscriptions by key (`thread:<id>` or `session:<id>`). */
  get subs(): Map<string, { close(): void }> {
    return (this.subMap ??= new Map());
  }

  subKeys(): readonly string[] {
    return this.subMap ? [...this.subMap.keys()] : [];
  }

  topicList(): readonly Topic[] {
    return this.topicSet ? [...this.topicSet] : [];
  }

  send(frame: OutFrame): void {
    this.outbox.send(frame);
  }

  error(code: HubErrorCode, message: string, extra?: Record<string, unknown>): void {
    this.send(errorFrame(code, message, extra));
  }

  /** A state frame (telemetry, thread_state) keyed by what it describes: a backed-up reader gets the latest only. */
  sendState(key: string, frame: OutFrame): void {
    if (this.outbox.full || (this.latest?.size ?? 0) > 0) (this.latest ??= new Map()).set(key, frame);
    else this.send(frame);
  }

  /** A broadcast frame that cannot be re-read from the store: kept (bounded) while the reader is backed up. */
  sendBroadcast(frame: OutFrame): void {
    if (!this.outbox.full && !this.overflow?.length) return this.send(frame);
    const overflow = (this.overflow ??= []);
    overflow.push(frame);
    if (overflow.length > this.deps.options.broadcastBacklogLimit) {
      this.overflow = undefined;
      this.fail('RATE_LIMITED', 'too far behind on broadcast topics; reconnect and resubscribe', CLOSE_POLICY);
    }
  }

  fail(code: HubErrorCode, message: string, closeCode: number): void {
    if (this.closed) return;
    this.error(code, message);
    // The error frame, and whatever waits for a write slice before it, go out ahead of the close frame.
    this.outbox.runSlice();
    this.ws.close(closeCode, code);
    this.dispose();
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.deps.subscriptions.forget(this);
    for (const sub of this.subMap?.values() ?? []) sub.close();
    this.subMap?.clear();
    this.outbox.close();
    this.deps.onDispose?.(this);
  }

  /** Called by the outbox when there is room again. */
  flush(): void {
    if (this.latest) {
      for (const [key, frame] of this.latest) {
        if (this.outbox.full) return;
        this.latest.delete(key);
        this.send(frame);
      }
    }
    const overflow = this.overflow;
    if (!overflow) return;
    let i = 0;
    while (i < overflow.length && !this.outbox.full) this.send(overflow[i++] as OutFrame);
    this.overflow = i === overflow.length ? undefined : overflow.slice(i);
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.lastSeen = Date.now();
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (bytes > this.deps.options.maxFrameBytes) {
      this.fail('FRAME_TOO_LARGE', `frames are limited to ${this.deps.options.maxFrameBytes} bytes`, CLOSE_TOO_BIG);
      return;
    }
    if (!this.admit()) return;
    if (isBinary) return this.error('PARSE_ERROR', 'binary frames are not supported; send JSON text');
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseInbound(text);
    if (isFailure(parsed)) {
      if (!this.authenticated) return this.fail('UNAUTHORIZED', 'authenticate first: {"type":"auth","data":{"token":…}}', CLOSE_POLICY);
      return this.error(parsed.error, parsed.message, parsed.request_id ? { request_id: parsed.request_id } : {});
    }
    if (!this.authenticated && parsed.type !== 'auth') {
      return this.fail('UNAUTHORIZED', 'authenticate first: {"type":"auth","data":{"token":…}}', CLOSE_POLICY);
    }
    this.dispatch(parsed);
  }

  /** Fixed one-second window; frames past the limit get one RATE_LIMITED per window and are not processed. */
  private admit(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
    if (this.windowCount <= this.deps.options.framesPerSecond) return true;
    if (this.windowCount === this.deps.options.framesPerSecond + 1) {
      this.error('RATE_LIMITED', `at most ${this.deps.options.framesPerSecond} frames per second; frames beyond it are not processed`);
    }
    return false;
  }

  private dispatch(f: Inbound): void {
    const subs = this.deps.subscriptions;
    switch (f.type) {
      case 'ping':
        return this.send(frame('pong'));
      case 'pong':
        return;
      case 'auth':
        return this.auth(f.data);
      case 'subscribe':
        return void subs.subscribe(this, f.data);
      case 'unsubscribe':
        return subs.unsubscribe(this, f.data);
      case 'ack':
        return void subs.ack(this, f.data);
      case 'command':
        return void this.command(f.data);
    }
  }

  private auth(data: { token?: string | undefined; client_id?: string | undefined }): void {
    const { token } = this.deps.options;
    if (!this.authenticated && token && (data.token === undefined || !tokenMatches(token, data.token))) {
      return this.fail('UNAUTHORIZED', 'wrong or missing token', CLOSE_POLICY);
    }
    this.authenticated = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    if (data.client_id) this.clientId = data.client_id;
    this.send(frame('authenticated', { ...(this.clientId ? { client_id: this.clientId } : {}) }));
  }

  private async command(data: { request_id: string; op: string; [k: string]: unknown }): Promise<void> {
    const { request_id, op, ...params } = data;
    const name: CommandName | undefined = Object.hasOwn(COMMAND_OPS, op)
      ? COMMAND_OPS[op as keyof typeof COMMAND_OPS]
      : isCommandName(op) ? op : undefined;
    if (!name) return this.error('INVALID_COMMAND', `unknown op "${op.slice(0, 100)}"`, { request_id });
    try {
      const result = await this.deps.commands.execute(name, params);
      this.send(frame('reply', { request_id, ok: true, result }));
    } catch (err) {
      if (!isTowerError(err)) this.deps.logger.error({ err, op }, 'hub command failed');
      this.send(frame('reply', { request_id, ok: false, error: toErrorBody(err) }));
    }
  }
}
