import type { Logger } from 'pino';
import type { StoredEvent } from '../../protocol/events.js';
import type { Bus } from '../../bus/types.js';
import type { Store } from '../../store/types.js';
import type { EventSubscription, SubscriptionStats } from './types.js';

export interface SubscriptionDeps {
  store: Store;
  bus: Bus;
  pageSize: number;
  liveQueueLimit: number;
  logger: Logger;
  /** First idle re-check of the store on a lossy bus (ms); it backs off to `IDLE_RECHECK_MAX_MS`. */
  idleRecheckMs: number;
  signal?: AbortSignal;
  onEnd?: (sub: Subscription) => void;
}

const CLOSED = Symbol('closed');
type Result = IteratorResult<StoredEvent[], undefined>;
const DONE: Result = { done: true, value: undefined };
/** Ceiling of the idle back-off: an idle subscriber of a lossy bus costs one `lastSeq` per this period. */
export const IDLE_RECHECK_MAX_MS = 5000;

/**
 * One subscriber's view of a session log. The bus listener is registered before the first store read,
 * so every event committed after that read began is also in the live queue: the store covers the past,
 * the queue the present, and seq comparisons against `cursor` stitch them without gap or duplicate.
 *
 * The live queue is bounded. On overflow it is dropped and the subscription is "behind"; the next pull
 * re-arms the queue first and then reads the store from the cursor, so the rejoin is as safe as the start.
 *
 * The bus subscription is asynchronous (a network SUBSCRIBE takes a round trip): the first store read
 * waits for it, so nothing committed in between can fall between the read and the live queue. A gap is
 * noticed when a later event arrives; on a lossy bus the last event itself may be lost, so while waiting
 * for live events the subscription also re-checks `lastSeq` on a backing-off timer.
 */
export class Subscription implements EventSubscription, AsyncIterableIterator<StoredEvent[]> {
  private cursorSeq: number;
  private queue: StoredEvent[] = [];
  private behind = false;
  /** Read the store before serving the queue: at start, after an overflow, on a gap, after a full page. */
  private needStore = true;
  /** Cursor at which a gap-triggered store read found nothing new: the store itself lacks those seqs. */
  private gapCheckedAt = -1;
  /** Kept even while behind: once a session is deleted its events are gone from the store. */
  private deleted: StoredEvent | undefined;
  private ended = false;
  private waiter: (() => void) | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Settles the store read in flight as CLOSED, so close() ends a pending next() without waiting. */
  private cancelRead: (() => void) | undefined;
  /** Settles once the bus subscription is active (or failed); the first store read waits for it. */
  private readonly ready: Promise<void>;
  private active = false;
  private unsubscribe: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleDelay: number;
  private readonly onAbort = (): void => this.close();
  private readonly counters = { maxQueued: 0, overflows: 0, storeReads: 0 };

  constructor(
    private readonly sessionId: string,
    afterSeq: number,
    private readonly deps: SubscriptionDeps,
  ) {
    this.cursorSeq = afterSeq;
    this.idleDelay = deps.idleRecheckMs;
    if (deps.signal?.aborted) {
      this.ready = Promise.resolve();
      this.close();
      return;
    }
    this.ready = deps.bus
      .subscribe(sessionId, (event) => this.onLive(event), { onLoss: () => this.onLoss() })
      .then((off) => {
        // Closed while the SUBSCRIBE was in flight: nobody will call close() again.
        if (this.ended) off();
        else this.unsubscribe = off;
      });
    // Observed by the first pull; a subscription nobody pulls must not raise an unhandled rejection.
    this.ready.catch(() => undefined);
    deps.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** True once ended (closed, aborted, deleted, unknown session or failed). */
  get closed(): boolean {
    return this.ended;
  }

  get cursor(): number {
    return this.cursorSeq;
  }

  get stats(): SubscriptionStats {
    return { queued: this.queue.length, ...this.counters };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<Result> {
    // Serialized: two overlapping next() calls must not both read from the same cursor.
    const result = this.chain.then(() => this.pull());
    this.chain = result.catch(() => undefined);
    return result;
  }

  async return(): Promise<Result> {
    this.close();
    return DONE;
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.stopIdleTimer();
    this.queue = [];
    this.deps.signal?.removeEventListener('abort', this.onAbort);
    this.cancelRead?.();
    this.wake();
    this.deps.onEnd?.(this);
  }

  /** Runs inside Bus.publish: constant work, never waits for the consumer. */
  private onLive(event: StoredEvent): void {
    if (this.ended) return;
    if (event.type === 'session_deleted') this.deleted = event;
    if (this.behind || event.seq <= this.cursorSeq) return;
    if (this.queue.length >= this.deps.liveQueueLimit) {
      this.queue = [];
      this.behind = true;
      this.counters.overflows++;
      this.deps.logger.debug(
        { session_id: this.sessionId, cursor: this.cursorSeq, seq: event.seq },
        'subscriber behind, will catch up from store',
      );
      this.wake();
      return;
    }
    this.queue.push(event);
    if (this.queue.length > this.counters.maxQueued) this.counters.maxQueued = this.queue.length;
    this.wake();
  }

  /** The bus says it may have dropped events (it reconnected): read the store again before the queue. */
  private onLoss(): void {
    if (this.ended) return;
    this.needStore = true;
    this.wake();
  }

  private async pull(): Promise<Result> {
    try {
      if (this.ended) return DONE;
      if (!this.active) {
        if ((await this.raced(this.ready)) === CLOSED || this.ended) return DONE;
        this.active = true;
      }
      for (;;) {
        if (this.ended) return DONE;
        if (this.behind) {
          // Re-arm before reading, so events published during the read are queued, not lost.
          this.behind = false;
          this.needStore = true;
        }
        if (this.needStore) {
          const result = await this.readStore();
          if (result) return result;
          continue;
        }
        this.dropDelivered();
        const head = this.queue[0];
        if (!head) {
          await this.waitLive();
          continue;
        }
        if (head.seq > this.cursorSeq + 1 && this.gapCheckedAt !== this.cursorSeq) {
          // Committed before it was published, so the store holds whatever the bus skipped.
          this.gapCheckedAt = this.cursorSeq;
          this.needStore = true;
          continue;
        }
        let n = 1;
        while (n < this.queue.length && this.queue[n]?.seq === (this.queue[n - 1]?.seq ?? 0) + 1) n++;
        return this.deliver(this.queue.splice(0, n));
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** One store page; undefined when there was nothing to deliver and the loop should go on. */
  private async readStore(): Promise<Result | undefined> {
    // A catch-up is page after synchronous page; on loopback the socket drains at once, so without a
    // macrotask turn between pages one replay would hold the event loop (and every other session).
    if (this.counters.storeReads > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.ended) return DONE;
    this.counters.storeReads++;
    const page = await this.raced(this.deps.store.readEvents(this.sessionId, this.cursorSeq, this.deps.pageSize));
    if (page === CLOSED || this.ended) return DONE;
    this.needStore = page.length >= this.deps.pageSize;
    const fresh = page.filter((e) => e.seq > this.cursorSeq);
    if (fresh.length > 0) return this.deliver(fresh);
    if (page.length > 0) return undefined;
    const last = await this.raced(this.deps.store.lastSeq(this.sessionId));
    if (last === CLOSED || this.ended) return DONE;
    if (last === undefined) return this.finishGone();
    return undefined;
  }

  /**
   * The session is not in the store: never existed, or deleted (its events went with it). If the bus
   * told us of the deletion, that event is the last thing the subscriber needs to see, even when the
   * events between the cursor and it were deleted with the session before this subscriber read them.
   */
  private async finishGone(): Promise<Result> {
    // An in-process delete is published right after its commit; give that publish one turn to land.
    if (!this.deleted) await new Promise<void>((resolve) => setImmediate(resolve));
    const deleted = this.deleted;
    if (this.ended || !deleted || deleted.seq <= this.cursorSeq) {
      this.close();
      return DONE;
    }
    return this.deliver([deleted]);
  }

  /** Waits for a live event (or close); on a lossy bus, also for the store to pass the cursor. */
  private waitLive(): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.waiter = resolve));
    if (this.deps.bus.lossy) this.armIdleTimer();
    return woken;
  }

  private armIdleTimer(): void {
    this.stopIdleTimer();
    this.idleTimer = setTimeout(() => void this.idleCheck(), this.idleDelay);
    // A subscriber waiting for events must not keep the process alive on its own.
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private async idleCheck(): Promise<void> {
    this.idleTimer = undefined;
    if (this.ended || !this.waiter) return;
    let last: number | undefined;
    try {
      last = await this.deps.store.lastSeq(this.sessionId);
    } catch (err) {
      this.deps.logger.warn({ err, session_id: this.sessionId }, 'idle re-check of the store failed');
      last = this.cursorSeq;
    }
    if (this.ended || !this.waiter) return;
    if (last === undefined || last > this.cursorSeq) {
      // Something was committed (or the session went) that the bus never delivered.
      this.deps.logger.debug({ session_id: this.sessionId, cursor: this.cursorSeq, last }, 'idle re-check found missed events');
      this.needStore = true;
      this.wake();
      return;
    }
    this.idleDelay = Math.min(this.idleDelay * 2, IDLE_RECHECK_MAX_MS);
    this.armIdleTimer();
  }

  private deliver(batch: StoredEvent[]): Result {
    const end = batch.findIndex((e) => e.type === 'session_deleted');
    const value = end >= 0 ? batch.slice(0, end + 1) : batch;
    const last = value[value.length - 1];
    if (last) this.cursorSeq = last.seq;
    // Activity: a lost event is likeliest right now (a turn's last event), so re-check soon again.
    this.idleDelay = this.deps.idleRecheckMs;
    if (end >= 0) this.close();
    // Queued events a store read has already covered would otherwise count against the bound.
    else this.dropDelivered();
    return { done: false, value };
  }

  /** Drops queued duplicates: events at or below the cursor. The queue is ascending (bus order). */
  private dropDelivered(): void {
    let stale = 0;
    while (stale < this.queue.length && (this.queue[stale]?.seq ?? 0) <= this.cursorSeq) stale++;
    if (stale > 0) this.queue.splice(0, stale);
  }

  /**
   * Not Promise.race against one long-lived "closed" promise: every race would leave a reaction on it
   * for the subscription's whole life.
   */
  private raced<T>(work: Promise<T>): Promise<T | typeof CLOSED> {
    return new Promise<T | typeof CLOSED>((resolve, reject) => {
      const cancel = (): void => resolve(CLOSED);
      this.cancelRead = cancel;
      // The next read may already have installed its own cancel.
      const done = (): void => {
        if (this.cancelRead === cancel) this.cancelRead = undefined;
      };
      work.then(
        (value) => {
          done();
          resolve(value);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  private wake(): void {
    this.stopIdleTimer();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
