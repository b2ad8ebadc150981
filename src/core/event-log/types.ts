import type { Logger } from 'pino';
import type { ConversationMessage } from '../../protocol/conversation.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { SessionPatch, SessionRecord } from '../../store/types.js';
import type { GroupCommitLimits } from './group-commit.js';
import type { IdleTimers } from './idle-recheck.js';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import type { EventBatch, FramedBatch, PageCacheOptions } from './pages.js';

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
   * On a lossy bus (`bus.lossy`), how soon after its last delivery an idle session first re-checks the
   * store for events the bus lost (one timer and one read per session, however many subscribers; then
   * backing off to 5 s). Default 250 ms.
   */
  idleRecheckMs?: number;
  /** The idle re-check's timers (tests count and fire them). Default: node's, unref'd. */
  timers?: IdleTimers;
  logger?: Logger;
  /** Batch size, waiting appends and entry size limits of the group commit. */
  commits?: GroupCommitLimits;
  /** The catch-up pages shared between subscribers of a session. */
  pages?: PageCacheOptions;
}

export interface SubscribeOptions {
  signal?: AbortSignal;
  liveQueueLimit?: number;
  /** Push subscriptions only: deliver nothing until the first `resume()` (the sink is not ready yet). */
  paused?: boolean;
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
  /** Of those, the ones served by a page another subscriber read (cached or in flight). */
  sharedReads: number;
}

/**
 * A push subscriber (SSE writer, hub connection, bus): takes batches as the log has them, and says when
 * to hold the next ones. Batches are ascending and gap-free, each starting right after the previous one.
 * `B` is what it takes: `EventBatch` (stored rows as rows), or `FramedBatch` for a `FramedSink`.
 */
export interface BatchSink<B> {
  /**
   * One batch. Return true to take the next as soon as there is one; false to hold them until
   * `resume()`; a promise to hold them until it settles (a rejection ends the subscription with it).
   * While held, live events wait in the bounded queue; past its bound the subscription catches up from
   * the store on resume. Throwing ends the subscription with that error.
   */
  onBatch(batch: B): boolean | PromiseLike<unknown>;
  /**
   * Called once when the subscription ends: closed, aborted, the session deleted (after its
   * `session_deleted`) or unknown (no `err`), or a store or bus failure (`err`).
   */
  onEnd?(err?: unknown): void;
}

/**
 * A sink that writes stored events as frames of one `FrameFormat` (SSE): its catch-up pages are read
 * already framed (by the store in SQL where it can), with no row objects, and shared with every other
 * sink of the same format catching up over the same range.
 */
export interface FramedSink extends BatchSink<FramedBatch> {
  readonly frameFormat: FrameFormat;
}

/** A sink that takes stored rows as rows (the hub, the iterator). */
export interface EventSink extends BatchSink<EventBatch> {
  readonly frameFormat?: undefined;
}

/** A push subscription: what `EventLog.subscribeSink` returns. */
export interface SinkSubscription {
  /**
   * Takes batches again after the sink returned false. No-op when not held. `now`: what is waiting is
   * handed to the sink before `resume` returns (not from `onBatch` itself), rather than in a microtask.
   */
  resume(now?: boolean): void;
  /** Ends the subscription (the sink's `onEnd` runs). Idempotent. */
  close(): void;
  readonly closed: boolean;
  /** Seq of the last event handed to the sink (the subscriber's `afterSeq` until the first batch). */
  readonly cursor: number;
  readonly stats: SubscriptionStats;
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
