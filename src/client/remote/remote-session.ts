import { isRemoteError } from './errors.js';
import type { MessagePayload, RemoteControl, RemoteEvent, RemoteFeed, SessionPayload } from './types.js';

export interface RemoteSessionOptions {
  /** The session whose messages are mirrored and whose events `events()` yields (all sessions' otherwise). */
  sessionId?: string;
  /** Events an iterator may hold before it drops the oldest (default 10 000). */
  bufferLimit?: number;
}

interface Iter {
  queue: RemoteEvent[];
  wake: (() => void) | undefined;
  done: boolean;
}

/**
 * A mirror of a remote instance (seed 002's `remoteview.RemoteSession`): `sync()` bootstraps it with
 * state.sync (session.list where the instance lacks state.sync, as Pando does; `degraded` says so) and
 * message.list, then live events keep it current. After a reconnect it reads both again and yields the
 * messages it missed as `message.append` events marked `resynced`, so a consumer sees every message once.
 */
export class RemoteSession {
  private readonly sessions = new Map<string, SessionPayload>();
  private readonly messageIds = new Set<string>();
  private readonly messageList: MessagePayload[] = [];
  private readonly iters = new Set<Iter>();
  private readonly bufferLimit: number;
  private started = false;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  /** Live message.append events held while a resync reads what was missed, so order is kept. */
  private held: RemoteEvent[] | undefined;
  activeSessionId: string | undefined;
  instanceId: string | undefined;
  /** Why the mirror runs on less than state.sync (e.g. a Pando instance), if it does. */
  degraded: string | undefined;
  /** Reconnects seen (each followed by a resync). */
  reconnects = 0;

  constructor(
    readonly control: RemoteControl,
    private readonly feed: RemoteFeed,
    private readonly opts: RemoteSessionOptions = {},
  ) {
    this.bufferLimit = opts.bufferLimit ?? 10_000;
  }

  get sessionId(): string | undefined {
    return this.opts.sessionId;
  }

  /** Bootstraps the mirror (first call also starts the live feed); later calls read everything again. */
  async sync(): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.feed.prepare?.();
      this.feed.start({ onEvent: (e) => this.apply(e), onReconnect: () => this.onReconnect() });
      await this.bootstrap(false);
      return;
    }
    await this.bootstrap(true);
  }

  /** The sessions as last known. */
  mirror(): SessionPayload[] {
    return [...this.sessions.values()];
  }

  /** The mirrored messages of `sessionId`, in conversation order. */
  messages(): MessagePayload[] {
    return [...this.messageList];
  }

  /** Live events (and resync catch-ups) from now on; ends on `close()`. */
  events(): AsyncIterableIterator<RemoteEvent> {
    const iter: Iter = { queue: [], wake: undefined, done: false };
    this.iters.add(iter);
    const self = this;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<RemoteEvent>> {
        for (;;) {
          const e = iter.queue.shift();
          if (e) return { value: e, done: false };
          if (iter.done) return { value: undefined, done: true };
          await new Promise<void>((r) => (iter.wake = r));
          iter.wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<RemoteEvent>> {
        iter.done = true;
        iter.queue.length = 0;
        self.iters.delete(iter);
        iter.wake?.();
        return { value: undefined, done: true };
      },
    };
  }

  async close(): Promise<void> {
    await this.feed.close();
    for (const iter of this.iters) {
      iter.done = true;
      iter.wake?.();
    }
    this.iters.clear();
  }

  private async bootstrap(emitMissed: boolean): Promise<void> {
    try {
      const state = await this.control.stateSync();
      this.degraded = undefined;
      this.instanceId = state.instance_id;
      this.activeSessionId = state.active_session_id;
      this.replaceSessions(state.sessions);
    } catch (err) {
      if (!isRemoteError(err, 'unsupported')) throw err;
      this.degraded = `${err.message}; mirroring with session.list`;
      this.replaceSessions(await this.control.listSessions());
    }
    const sid = this.opts.sessionId;
    if (!sid) return;
    for (const m of await this.control.listMessages(sid)) {
      if (this.addMessage(m) && emitMissed) {
        this.emit({
          topic: 'message.append', sessionId: sid, timestamp: m.created_at, resynced: true,
          payload: { session_id: sid, message_id: m.id, role: m.role, content: m.content },
        });
      }
    }
  }

  private onReconnect(): void {
    this.reconnects += 1;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.held = [];
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        // An instance that is still starting may not answer yet; the next reconnect or event retries.
        await this.bootstrap(true).catch(() => undefined);
      } while (this.resyncAgain);
    })().finally(() => {
      this.resyncing = undefined;
      const held = this.held ?? [];
      this.held = undefined;
      for (const e of held) this.apply(e);
    });
  }

  /** Resolves once no resync is running (tests, CLI). */
  async settled(): Promise<void> {
    while (this.resyncing) await this.resyncing;
  }

  private replaceSessions(list: SessionPayload[]): void {
    this.sessions.clear();
    for (const s of list) this.sessions.set(s.id, s);
  }

  private addMessage(m: MessagePayload): boolean {
    if (this.messageIds.has(m.id)) return false;
    this.messageIds.add(m.id);
    this.messageList.push(m);
    const n = (x: MessagePayload): number => (/^\d+$/.test(x.id) ? Number(x.id) : Number.MAX_SAFE_INTEGER);
    this.messageList.sort((a, b) => n(a) - n(b));
    return true;
  }

  private apply(e: RemoteEvent): void {
    const p = e.payload;
    const sid = this.opts.sessionId;
    switch (e.topic) {
      case 'session.list':
        if (Array.isArray(p.sessions)) this.replaceSessions(p.sessions as SessionPayload[]);
        break;
      case 'session.update':
        if (typeof p.id === 'string') this.sessions.set(p.id, p as unknown as SessionPayload);
        break;
      case 'session.activated':
        if (typeof p.id === 'string') {
          this.activeSessionId = p.id;
          this.sessions.set(p.id, p as unknown as SessionPayload);
        }
        break;
      case 'session.deleted':
        if (typeof p.id === 'string') this.sessions.delete(p.id);
        break;
      case 'message.append': {
        if (sid === undefined || p.session_id !== sid) break;
        if (this.held && !e.resynced) {
          this.held.push(e);
          return;
        }
        const added = this.addMessage({
          id: String(p.message_id), role: String(p.role), content: String(p.content), created_at: e.timestamp,
        });
        if (!added) return; // already mirrored (a resync read it first): yield it once only
        break;
      }
      default:
    }
    const about = e.sessionId ?? (typeof p.session_id === 'string' ? p.session_id : undefined);
    if (sid !== undefined && about !== undefined && about !== sid) return;
    this.emit(e);
  }

  private emit(e: RemoteEvent): void {
    for (const iter of this.iters) {
      iter.queue.push(e);
      if (iter.queue.length > this.bufferLimit) iter.queue.shift();
      iter.wake?.();
    }
  }
}
