import type { Logger } from '../logger.js';
import type { InboxMessage, MessagingChange, Thread, ThreadMessage } from '../../protocol/messaging.js';
import type { MessagingStore } from '../../store/types.js';

/** What the live side tells listeners: a thread grew, a thread changed state, an inbox got a message. */
export type MessagingNotice =
  | { kind: 'thread_message'; thread_id: string; message_seq: number }
  | { kind: 'thread_state'; thread: Thread }
  | { kind: 'inbox_message'; message: InboxMessage };

/** Recent messages kept per thread, so a thread's live subscribers do not each read the store. */
const RECENT_PER_THREAD = 256;
const RECENT_THREADS = 512;

/**
 * The one store watcher of a Tower process. It turns the store's change feed (own writes and rows other
 * processes inserted) into notices, and keeps the newest messages of recently active threads so that
 * many subscribers of one thread share one store read.
 */
export class MessagingLive {
  private readonly listeners = new Set<(n: MessagingNotice) => void>();
  private readonly recent = new Map<string, ThreadMessage[]>();
  private unwatch: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: MessagingStore,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.unwatch ??= this.store.watch((changes) => {
      // Serialized: notices stay in commit order even though resolving one may read the store.
      this.chain = this.chain.then(() => this.handle(changes)).catch((err: unknown) => {
        this.logger.error({ err }, 'messaging change handling failed');
      });
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  listen(listener: (n: MessagingNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Messages after `afterSeq` from the recent cache, or undefined when the cache does not reach back that far. */
  cached(threadId: string, afterSeq: number, limit: number): ThreadMessage[] | undefined {
    const list = this.recent.get(threadId);
    const first = list?.[0];
    if (!list || !first || first.message_seq > afterSeq + 1) return undefined;
    const start = afterSeq + 1 - first.message_seq;
    return list.slice(start, start + limit);
  }

  private async handle(changes: MessagingChange[]): Promise<void> {
    // A thread's state is sent once per batch of changes, after its messages (last_seq and status are
    // state: the latest value is what matters).
    const touched = new Set<string>();
    for (const change of changes) {
      if (change.kind === 'thread_message') {
        await this.remember(change.thread_id, change.message_seq);
        this.emit({ kind: 'thread_message', thread_id: change.thread_id, message_seq: change.message_seq });
        touched.add(change.thread_id);
      } else if (change.kind === 'thread_state') {
        touched.add(change.thread_id);
      } else {
        const message = await this.store.getInboxMessage(change.inbox_message_id);
        if (message) this.emit({ kind: 'inbox_message', message });
      }
    }
    for (const id of touched) {
      const thread = await this.store.getThread(id);
      if (thread) this.emit({ kind: 'thread_state', thread });
    }
  }

  /** Extends the thread's cache up to `seq`; a cache with a hole is dropped (readers fall back to the store). */
  private async remember(threadId: string, seq: number): Promise<void> {
    const list = this.recent.get(threadId) ?? [];
    const last = list[list.length - 1]?.message_seq ?? Math.max(0, seq - 1);
    if (seq <= last && list.length > 0) return;
    const fresh = await this.store.readThreadMessages(threadId, last, RECENT_PER_THREAD);
    const merged = list.concat(fresh);
    const contiguous = merged.every((m, i) => i === 0 || m.message_seq === (merged[i - 1]?.message_seq ?? 0) + 1);
    this.recent.delete(threadId);
    if (!contiguous || merged.length === 0) return;
    this.recent.set(threadId, merged.slice(-RECENT_PER_THREAD));
    if (this.recent.size > RECENT_THREADS) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private emit(n: MessagingNotice): void {
    for (const l of [...this.listeners]) {
      try {
        l(n);
      } catch (err) {
        this.logger.error({ err }, 'messaging listener threw');
      }
    }
  }
}
