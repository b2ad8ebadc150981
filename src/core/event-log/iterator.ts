import type { StoredEvent } from '../../protocol/events.js';
import { batchEvents, type EventBatch } from './pages.js';
import type { EventSink, EventSubscription, SinkSubscription, SubscriptionStats } from './types.js';

type Result = IteratorResult<StoredEvent[], undefined>;
const DONE: Result = { done: true, value: undefined };

interface Waiter {
  resolve: (r: Result) => void;
  reject: (err: unknown) => void;
}

/**
 * The pull face of a push subscription, for consumers that want typed objects one batch at a time
 * (tests, the SDK's in-process tower, the messaging and metrics code). The subscription starts held and
 * is resumed by each `next()`, so a batch is computed only when asked for, exactly as a pull would; each
 * batch is handed to one waiting `next()`, and overlapping `next()`s get successive batches.
 */
export class IteratedSubscription implements EventSubscription, AsyncIterableIterator<StoredEvent[]>, EventSink {
  private sub: SinkSubscription | undefined;
  private waiters: Waiter[] = [];
  private ended = false;
  /** A failure no `next()` was waiting for: the next `next()` rejects with it. */
  private failure: { err: unknown } | undefined;
  /** A batch that came with no `next()` waiting (not expected: the subscription is held between them). */
  private buffered: StoredEvent[][] = [];

  /** Set right after the push subscription is made (which may already have ended it: aborted signal). */
  attach(sub: SinkSubscription): void {
    this.sub = sub;
  }

  get cursor(): number {
    return this.sub?.cursor ?? 0;
  }

  get stats(): SubscriptionStats {
    return this.sub?.stats ?? { queued: 0, maxQueued: 0, overflows: 0, storeReads: 0, sharedReads: 0 };
  }

  get closed(): boolean {
    return this.ended;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<Result> {
    const ready = this.buffered.shift();
    if (ready) return Promise.resolve({ done: false, value: ready });
    if (this.failure) {
      const { err } = this.failure;
      this.failure = undefined;
      return Promise.reject(err);
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise<Result>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.sub?.resume();
    });
  }

  async return(): Promise<Result> {
    this.close();
    return DONE;
  }

  close(): void {
    this.sub?.close();
    // Closed before attach (cannot happen through EventLog, but keep close() total).
    this.onEnd(undefined);
  }

  onBatch(batch: EventBatch): boolean {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ done: false, value: batchEvents(batch) });
    else this.buffered.push(batchEvents(batch));
    return this.waiters.length > 0;
  }

  onEnd(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const waiters = this.waiters.splice(0);
    const first = waiters.shift();
    if (err !== undefined) {
      if (first) first.reject(err);
      else this.failure = { err };
    } else {
      first?.resolve(DONE);
    }
    for (const w of waiters) w.resolve(DONE);
  }
}
