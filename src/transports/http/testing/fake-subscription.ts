import type { EventSink, FramedSink, SinkSubscription } from '../../../core/event-log/index.js';
import { storedEventOf, type StoredEvent } from '../../../protocol/events.js';

/**
 * A push subscription the test feeds by hand: `push` hands a batch to the sink (or keeps it while the
 * sink holds the subscription), `end` and `fail` end it. `pulls` counts batches the sink took, so a test
 * can see whether the writer took more than the client asked for.
 */
export class FakeSubscription implements SinkSubscription {
  readonly cursor = 0;
  readonly stats = { queued: 0, maxQueued: 0, overflows: 0, storeReads: 0, sharedReads: 0 };
  pulls = 0;
  closed = false;
  private held = true;
  private readonly batches: StoredEvent[][] = [];
  private readonly closeListeners = new Set<() => void>();
  private sink: EventSink | FramedSink | undefined;

  /** The writer under test; the subscription starts held, as `paused: true` makes a real one. */
  attach(sink: EventSink | FramedSink): this {
    this.sink = sink;
    return this;
  }

  push(...batch: StoredEvent[]): void {
    this.batches.push(batch);
    this.flush();
  }

  end(): void {
    this.finish(undefined);
  }

  fail(err: unknown): void {
    this.finish(err);
  }

  resume(): void {
    if (this.closed) return;
    this.held = false;
    this.flush();
  }

  close(): void {
    this.finish(undefined);
  }

  /** Resolves once the subscription ended (closed by the writer, or `end`/`fail`). */
  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((resolve) => this.closeListeners.add(resolve));
  }

  private flush(): void {
    while (!this.held && !this.closed && this.batches.length > 0) {
      this.pulls += 1;
      const events = this.batches.shift() as StoredEvent[];
      const answer = this.sink?.onBatch({ from: 'live', events });
      if (answer === false) this.held = true;
      else if (answer !== true && answer) {
        this.held = true;
        void Promise.resolve(answer).then(() => this.resume());
      }
    }
  }

  private finish(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.sink?.onEnd?.(err);
    for (const listener of this.closeListeners) listener();
  }
}

export function storedEvent(seq: number, data: Record<string, unknown> = { content: `chunk ${seq}` }): StoredEvent {
  return storedEventOf('ses_1', seq, 'agent_choice', data, '2026-01-01T00:00:00.000Z');
}
