import type { IterationObserver, PartSink } from '../types.js';

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
  /** Push mode (`drain`): the consumer, and how its drain ends. */
  private sink: PartSink<T> | undefined;
  private drained: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** The sink's last `batch()` asked to wait: items buffer meanwhile. */
  private held = false;
  /** Items went to the sink since its last `batch()`, which a microtask will call. */
  private batchDue = false;

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
    if (this.sink !== undefined && !this.held && this.buffer.length === 0) {
      this.give(item);
      return;
    }
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
    const value = this.shift();
    this.observer?.item(value);
    return value;
  }

  /** The first buffered item, resuming the source at the low-water mark. */
  private shift(): T {
    const value = this.buffer.shift() as T;
    if (this.paused && this.buffer.length <= this.low) {
      this.paused = false;
      this.source?.resume();
    }
    return value;
  }

  /** No more items: the consumer gets the buffered ones, then the end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.buffer.length === 0 && !this.batchDue) this.release();
  }

  /**
   * Push mode, instead of `next`: each item goes to `sink.item` synchronously as it is pushed (inside the
   * source's I/O callback), and `sink.batch()` follows, in a microtask, the items pushed in one
   * synchronous run (one socket read) — what `next` plus `takeReady` would have taken in one go, so a
   * consumer that coalesces runs sees the same runs. No promise and no async resumption per item. A
   * promise from `batch()` holds further items in the buffer (under the same flow control) until it
   * settles; then the buffered items go over in one run. Resolves when the iteration is over (close,
   * abort, early `return`); rejects with what the sink threw, after cancelling the source.
   */
  drain(sink: PartSink<T>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sink = sink;
      this.drained = { resolve, reject };
      if (this.signal.aborted) return this.release();
      this.deliver();
    });
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

  /** One item to the sink; the batch's end is scheduled with its first item. */
  private give(item: T): void {
    try {
      this.observer?.item(item);
      (this.sink as PartSink<T>).item(item);
    } catch (error) {
      return this.fail(error);
    }
    if (this.batchDue) return;
    this.batchDue = true;
    queueMicrotask(this.endBatch);
  }

  private readonly endBatch = (): void => {
    this.batchDue = false;
    const sink = this.sink;
    if (sink === undefined || this.drained === undefined) return;
    let wait: Promise<void> | undefined;
    try {
      wait = sink.batch();
    } catch (error) {
      return this.fail(error);
    }
    if (wait === undefined) {
      if (this.closed && this.buffer.length === 0) this.release();
      return;
    }
    this.held = true;
    wait.then(this.unhold, (error: unknown) => this.fail(error));
  };

  private readonly unhold = (): void => {
    this.held = false;
    this.deliver();
  };

  /** Buffered items to the sink in one run (then its batch), or the end once closed and empty. */
  private deliver(): void {
    if (this.drained === undefined) return;
    while (this.buffer.length > 0 && this.drained !== undefined) this.give(this.shift());
    if (this.closed && this.buffer.length === 0 && !this.batchDue) this.release();
  }

  private fail(error: unknown): void {
    const drained = this.drained;
    this.drained = undefined;
    this.stop();
    this.tellEnd();
    drained?.reject(error);
  }

  private release(): void {
    const drained = this.drained;
    if (drained !== undefined) {
      this.drained = undefined;
      this.tellEnd();
      drained.resolve();
    }
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
