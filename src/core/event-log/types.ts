import type { Logger } from 'pino';
import type { ConversationMessage } from '../../protocol/conversation.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { SessionPatch, SessionRecord } from '../../store/types.js';
import type { GroupCommitLimits } from './group-commit.js';

/** State changes committed in the same transaction as the appended event. */
export interface AppendEffects {
  message?: ConversationMessage;
  replace_last_message?: ConversationMessage;
  session?: SessionPatch;
  delete_session?: boolean;
  /** Per-session state rows to set (null deletes), e.g. durable queues. */
  state?: Record<string, string | null>;
  /** Compare-and-set guards on state rows (null: absent); a mismatch fails the append with `conflict`. */
  expect_state?: Record<string, string | null>;
  /** Creates the session row in the same transaction as this event (the session's first). */
  create_session?: SessionRecord;
}

export interface EventLogOptions {
  /** Events per store read while catching up. Default 500. */
  pageSize?: number;
  /** Live events a subscriber may have waiting before it falls back to the store. Default 1024. */
  liveQueueLimit?: number;
  /**
   * On a lossy bus (`bus.lossy`), how soon an idle subscriber first re-checks the store for events the
   * bus lost (then backing off to 5 s). Default 250 ms.
   */
  idleRecheckMs?: number;
  logger?: Logger;
  /** Batch size, waiting appends and entry size limits of the group commit. */
  commits?: GroupCommitLimits;
}

export interface SubscribeOptions {
  signal?: AbortSignal;
  liveQueueLimit?: number;
}

/** Counters of one subscription, for diagnostics and for tests that pin the memory bound. */
export interface SubscriptionStats {
  /** Live events waiting now. */
  queued: number;
  /** Most live events ever waiting at once; never above the queue limit. */
  maxQueued: number;
  /** Times the live queue overflowed and was dropped in favour of a store catch-up. */
  overflows: number;
  /** Store reads made (initial catch-up, after overflow, on a gap). */
  storeReads: number;
}

/**
 * Stored events after the subscriber's seq, then live ones: ascending, gap-free, no duplicates. Each
 * iteration yields a batch so a transport can write many frames at once.
 */
export interface EventSubscription extends AsyncIterable<StoredEvent[]> {
  /** Ends the subscription; a pending `next()` resolves done. Idempotent. */
  close(): void;
  /** Seq of the last event delivered (the subscriber's `afterSeq` until the first batch). */
  readonly cursor: number;
  readonly stats: SubscriptionStats;
}
