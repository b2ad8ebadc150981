import type { IterationObserver } from '../types.js';

/** Where a queue's items come from: flow control and cancellation. */
export interface QueueSource {
  pause(): void;
  resume(): void;
  cancel(): void;
}

export interface PartQueueOptions {
  /** Buffered items at which the source is paused (default 256)... */
  highWaterMark?: number;
  /** ...and resumed again (default 32). */
  lowWaterMark?: number;
  /**
   * Items handed out back to back from the buffer before the consumer waits for a macrotask turn
   * (`setImmediate`), so one stream's burst never holds the event loop (default 64).
   */
  turnBudget?: number;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A push-to-pull queue: a source pushes items from its I/O callbacks, one consumer iterates them. Lean on
 * the hot path: an item pushed while the consumer waits resolves its pending promise directly; buffered
 * items are handed out as already resolved promises. Bounded: the source is paused above the high-water
 * mark. Fair: after `turnBudget` buffered items in a row the consumer yields a macrotask turn, so a
 * stream that arrives in one burst (hundreds of events in one socket read) takes turns with timers,
 * sockets and the group commit. A consumer that keeps up never meets the budget: it waits for the socket
 * between items anyway.
 *
 * The abort signal ends the iteration at once: buffered items are dropped, the source is cancelled.
 */
export class PartQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private closed = false;
  private paused = false;
  private served = 0;
  private source: QueueSource | undefined;
  private observer: IterationObserver<T> | undefined;
  private readonly high: number;
  private readonly low: number;
  private readonly budget: number;
  private readonly onAbort = () => this.stop();

  constructor(
    private readonly signal: AbortSignal,
    options: PartQueueOptions = {},
  ) {
    this.high = options.highWaterMark ?? 256;
    this.low = Math.min(options.lowWaterMark ?? 32, this.high);
    this.budget = Math.max(1, options.turnBudget ?? 64);
    if (signal.aborted) this.closed = true;
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Connects the source (pushes may start before it is known). */
  attach(source: QueueSource): void {
    this.source = source;
    if (this.closed) source.cancel();
    else if (this.paused) source.pause();
  }

  /** Tells `observer` of each item as the consumer gets it and of the end (see `StepPartIterator.observe`). */
  observe(observer: IterationObserver<T>): void {
    this.observer = observer;
  }

  /** True once the queue takes no more items (closed, aborted, or the consumer left). */
  get ended(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      this.served = 1;
      this.observer?.item(item);
      waiter({ done: false, value: item });
      return;
    }
    this.buffer.push(item);
    if (!this.paused && this.buffer.length >= this.high) {
      this.paused = true;
      this.source?.pause();
    }
  }

  /**
   * The next buffered item, synchronously, or undefined when none waits (or after an abort). Items taken
   * here count as served from the buffer like `next`'s, for the source's flow control.
   */
  takeReady(): T | undefined {
    if (this.buffer.length === 0 || this.signal.aborted) return undefined;
    const value = this.buffer.shift() as T;
    if (this.paused && this.buffer.length <= this.low) {
      this.paused = false;
      this.source?.resume();
    }
    this.observer?.item(value);
    return value;
  }

  /** No more items: the consumer gets the buffered ones, then the end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.buffer.length === 0) this.release();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.signal.aborted) return this.done();
    if (this.buffer.length > 0) {
      if (this.served >= this.budget) {
        this.served = 0;
        return new Promise((resolve) => setImmediate(() => resolve(this.next())));
      }
      this.served++;
      return Promise.resolve({ done: false, value: this.takeReady() as T });
    }
    this.served = 0;
    if (this.closed) return this.done();
    return new Promise(this.wait);
  }

  /** The executor of `next`'s promise, made once (not a closure per item). */
  private readonly wait = (resolve: (result: IteratorResult<T>) => void): void => {
    this.waiter = resolve;
  };

  /** The consumer left early (`break` in `for await`): the source is cancelled. */
  return(): Promise<IteratorResult<T>> {
    this.stop();
    return this.done();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private stop(): void {
    this.closed = true;
    this.buffer.length = 0;
    this.signal.removeEventListener('abort', this.onAbort);
    this.release();
    this.source?.cancel();
  }

  private release(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter !== undefined) {
      this.tellEnd();
      waiter(DONE);
    }
  }

  private done(): Promise<IteratorResult<T>> {
    this.tellEnd();
    return Promise.resolve(DONE);
  }

  /** The observer hears of the end once. */
  private tellEnd(): void {
    const observer = this.observer;
    this.observer = undefined;
    observer?.end();
  }
}
