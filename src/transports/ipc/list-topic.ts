import type { CommandService } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import type { Session } from '../../protocol/session.js';
import type { BusPublisher } from './publisher.js';
import { SerialRefresh } from './serial-refresh.js';
import { SessionList, type ListedSession } from './session-list.js';
import { allSessions } from './session-view.js';

export interface ListTopicOptions {
  /**
   * Least time between two `session.list` publications, per listed session, up to `maxIntervalMs`. A
   * change publishes at once when the last publication is older; within the interval, changes wait and go
   * out together at its end, with the list as it is then. Each frame carries the whole list, so its cost
   * grows with the list and so does the interval: the share of time spent on list frames stays bounded
   * whatever the count, a burst (a thousand sessions created, a thousand titles at the end of their first
   * turns) costs a few frames, not one per change, and a small list is published at once.
   */
  perSessionIntervalMs?: number;
  /** Bound of that interval: no list is older than this after a change (plus the session's own read). */
  maxIntervalMs?: number;
  /** Period of the full re-read that catches sessions no event here announced (imports, other nodes). */
  resyncMs?: number;
}

export const LIST_INTERVAL_PER_SESSION_MS = 0.25;
export const LIST_MAX_INTERVAL_MS = 250;
export const LIST_RESYNC_MS = 30_000;

/**
 * Pando's `session.list` topic and the heartbeat's session count, from the list kept one session at a
 * time (`SessionList`): a turn's start and end, a new title, a creation or a deletion each cost one
 * session's read (which the per-session refresh does anyway), not a read of every session.
 */
export class ListTopic {
  private readonly list = new SessionList();
  private readonly resync: SerialRefresh;
  private readonly perSessionIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly resyncTimer: NodeJS.Timeout;
  private lastText = '';
  private lastPublishedAt = Number.NEGATIVE_INFINITY;
  private pending: NodeJS.Timeout | undefined;
  private pendingDone: Array<() => void> = [];
  private dirty = false;
  private closed = false;

  constructor(
    private readonly commands: CommandService,
    private readonly publisher: BusPublisher,
    logger: Logger,
    opts: ListTopicOptions = {},
  ) {
    this.perSessionIntervalMs = opts.perSessionIntervalMs ?? LIST_INTERVAL_PER_SESSION_MS;
    this.maxIntervalMs = opts.maxIntervalMs ?? LIST_MAX_INTERVAL_MS;
    this.resync = new SerialRefresh(async () => {
      await this.readAll(true);
    }, logger);
    this.resyncTimer = setInterval(() => this.resync.request(), opts.resyncMs ?? LIST_RESYNC_MS);
    this.resyncTimer.unref();
  }

  get size(): number {
    return this.list.size;
  }

  /** Reads every session once without publishing, so heartbeats count from the first beat. */
  async prime(): Promise<Session[]> {
    return this.readAll(false);
  }

  /** Whether the session is listed (its row may be older than its last events). */
  has(sessionId: string): boolean {
    return this.list.get(sessionId) !== undefined;
  }

  /** A session as just read after its own events. */
  seen(session: ListedSession): void {
    if (this.list.upsert(session)) this.request();
  }

  /** A deleted session; publishes on `flush`, so a batch of deletions costs one frame. */
  removed(sessionId: string): void {
    if (this.list.remove(sessionId)) this.dirty = true;
  }

  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.request();
  }

  /** Re-reads every session now (what the periodic resync does). */
  resyncNow(): Promise<void> {
    this.resync.request();
    return this.resync.idle();
  }

  get busy(): boolean {
    return this.pending !== undefined || this.resync.busy;
  }

  /** Resolves once the scheduled publication (if any) and the running resync are done. */
  async idle(): Promise<void> {
    await this.resync.idle();
    if (this.pending) await new Promise<void>((resolve) => this.pendingDone.push(resolve));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.resyncTimer);
    this.resync.cancel();
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    for (const done of this.pendingDone.splice(0)) done();
  }

  private request(): void {
    if (this.closed || this.pending) return;
    const interval = Math.min(this.maxIntervalMs, this.perSessionIntervalMs * this.list.size);
    const wait = this.lastPublishedAt + interval - performance.now();
    if (wait <= 0) {
      this.publish();
      return;
    }
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.publish();
      for (const done of this.pendingDone.splice(0)) done();
    }, wait);
  }

  private publish(): void {
    if (this.closed) return;
    const sessions = this.list.payloads();
    const text = JSON.stringify(sessions.map((s) => s.id + s.title));
    if (text === this.lastText) return;
    this.lastText = text;
    this.lastPublishedAt = performance.now();
    this.publisher.publish('session.list', { sessions });
  }

  private async readAll(publish: boolean): Promise<Session[]> {
    if (this.closed) return [];
    this.list.beginRead();
    let sessions: Session[];
    try {
      sessions = await allSessions(this.commands);
    } catch (err) {
      this.list.abandonRead();
      throw err;
    }
    const changed = this.list.replace(sessions);
    if (!publish) this.lastText = JSON.stringify(this.list.payloads().map((s) => s.id + s.title));
    else if (changed) this.request();
    return sessions;
  }
}
