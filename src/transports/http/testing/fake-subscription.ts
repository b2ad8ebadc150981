import type { EventSubscription } from '../../../core/event-log/index.js';
import { storedEventOf, type StoredEvent } from '../../../protocol/events.js';

/**
 * A subscription the test feeds by hand: `push` hands a batch to the next `next()`, `end` finishes the
 * iteration. `pulls` counts `next()` calls, so a test can see whether the writer pulled ahead.
 */
export class FakeSubscription implements EventSubscription {
  readonly cursor = 0;
  readonly stats = { queued: 0, maxQueued: 0, overflows: 0, storeReads: 0 };
  pulls = 0;
  closed = false;
  private readonly batches: StoredEvent[][] = [];
  private waiter: ((result: IteratorResult<StoredEvent[]>) => void) | undefined;
  private ended = false;
  private readonly closeListeners = new Set<() => void>();

  push(...batch: StoredEvent[]): void {
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake({ value: batch, done: false });
    } else {
      this.batches.push(batch);
    }
  }

  end(): void {
    this.ended = true;
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.end();
    for (const listener of this.closeListeners) listener();
  }

  /** Resolves once `close()` was called. */
  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((resolve) => this.closeListeners.add(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent[]> {
    return {
      next: () => {
        this.pulls += 1;
        const batch = this.batches.shift();
        if (batch) return Promise.resolve({ value: batch, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

export function storedEvent(seq: number, data: Record<string, unknown> = { content: `chunk ${seq}` }): StoredEvent {
  return storedEventOf('ses_1', seq, 'agent_choice', data, '2026-01-01T00:00:00.000Z');
}
