import type { ThreadMessage } from '../../protocol/messaging.js';
import type { MessagingStore } from '../../store/types.js';
import type { MessagingLive } from './live.js';

type Result = IteratorResult<ThreadMessage[], undefined>;
const DONE: Result = { done: true, value: undefined };

/**
 * A thread's messages after a seq, then new ones as they are committed: ascending, gap-free, no
 * duplicates. Pull-based: nothing is queued for the subscriber, each `next()` reads from the recent cache
 * or the store at the cursor, so a reader that stops pulling costs no memory and misses nothing.
 */
export class ThreadSubscription implements AsyncIterableIterator<ThreadMessage[]> {
  private cursorSeq: number;
  private known: number;
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly unlisten: () => void;

  constructor(
    private readonly threadId: string,
    afterSeq: number,
    private readonly deps: { store: MessagingStore; live: MessagingLive; pageSize: number },
  ) {
    this.cursorSeq = afterSeq;
    this.known = afterSeq;
    this.unlisten = deps.live.listen((n) => {
      if (n.kind !== 'thread_message' || n.thread_id !== threadId) return;
      this.known = Math.max(this.known, n.message_seq);
      this.wake?.();
    });
  }

  get cursor(): number {
    return this.cursorSeq;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<Result> {
    while (!this.ended) {
      // Arm the wake-up before reading, so a commit landing during the read is not slept through.
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      const batch =
        this.deps.live.cached(this.threadId, this.cursorSeq, this.deps.pageSize) ??
        (await this.deps.store.readThreadMessages(this.threadId, this.cursorSeq, this.deps.pageSize));
      if (this.ended) break;
      const fresh = batch.filter((m) => m.message_seq > this.cursorSeq);
      const last = fresh[fresh.length - 1];
      if (last) {
        this.cursorSeq = last.message_seq;
        this.wake = undefined;
        return { done: false, value: fresh };
      }
      await arrived;
    }
    return DONE;
  }

  async return(): Promise<Result> {
    this.close();
    return DONE;
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.unlisten();
    this.wake?.();
  }
}
