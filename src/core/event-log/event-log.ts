import pino, { type Logger } from 'pino';
import { TowerError } from '../../protocol/errors.js';
import type { NewEvent } from '../../protocol/events.js';
import type { Bus } from '../../bus/types.js';
import type { CommitEntry, CommitResult, Store } from '../../store/types.js';
import { GroupCommit } from './group-commit.js';
import { Subscription } from './subscription.js';
import type { AppendEffects, EventLogOptions, EventSubscription, SubscribeOptions } from './types.js';

const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_LIVE_QUEUE_LIMIT = 1024;
const DEFAULT_IDLE_RECHECK_MS = 250;

/**
 * Every session's log: the one path by which events are written (group-committed, then published) and
 * read (stored, then live). Commit-then-publish means a subscriber can never see an event the store
 * does not hold, which is what lets any subscriber repair a gap by reading the store.
 */
export class EventLog {
  private readonly commits: GroupCommit;
  private readonly subscriptions = new Set<Subscription>();
  private readonly logger: Logger;
  private readonly pageSize: number;
  private readonly liveQueueLimit: number;
  private readonly idleRecheckMs: number;
  private closing = false;

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    opts: EventLogOptions = {},
  ) {
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.pageSize = positiveInt(opts.pageSize ?? DEFAULT_PAGE_SIZE, 'pageSize');
    this.liveQueueLimit = positiveInt(opts.liveQueueLimit ?? DEFAULT_LIVE_QUEUE_LIMIT, 'liveQueueLimit');
    this.idleRecheckMs = positiveInt(opts.idleRecheckMs ?? DEFAULT_IDLE_RECHECK_MS, 'idleRecheckMs');
    this.commits = new GroupCommit(store, (events) => bus.publish(events), this.logger);
  }

  /**
   * Appends one event; resolves once it is committed and published. Appends made in the same tick share
   * one transaction; if it fails, every append of that batch rejects with its error and nothing is
   * published.
   */
  append(sessionId: string, event: NewEvent, effects: AppendEffects = {}): Promise<CommitResult> {
    if (this.closing) return Promise.reject(new TowerError('internal', 'event log is closed'));
    const entry: CommitEntry = {
      session_id: sessionId,
      type: event.type,
      data: event.data as Record<string, unknown>,
      timestamp: new Date().toISOString(),
    };
    if (effects.message) entry.message = effects.message;
    if (effects.replace_last_message) entry.replace_last_message = effects.replace_last_message;
    if (effects.session) entry.session = effects.session;
    if (effects.delete_session) entry.delete_session = true;
    if (effects.state) entry.state = effects.state;
    return this.commits.add(entry);
  }

  /** Resolves when everything appended so far is committed and published (or has failed). */
  flush(): Promise<void> {
    return this.commits.settled();
  }

  /**
   * Events with seq > afterSeq, stored then live, in batches. Ends after `session_deleted`, at once for
   * an unknown session, and promptly on `signal` abort or `close()`.
   */
  subscribe(sessionId: string, afterSeq: number, opts: SubscribeOptions = {}): EventSubscription {
    if (!Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new TowerError('invalid_request', `afterSeq must be a non-negative integer, got ${afterSeq}`);
    }
    const sub = new Subscription(sessionId, afterSeq, {
      store: this.store,
      bus: this.bus,
      pageSize: this.pageSize,
      liveQueueLimit: positiveInt(opts.liveQueueLimit ?? this.liveQueueLimit, 'liveQueueLimit'),
      idleRecheckMs: this.idleRecheckMs,
      // No child logger per subscription: with thousands of idle subscribers each costs memory.
      logger: this.logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onEnd: (s) => this.subscriptions.delete(s),
    });
    if (this.closing) sub.close();
    if (!sub.closed) this.subscriptions.add(sub);
    return sub;
  }

  /** Number of open subscriptions (diagnostics). */
  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  /** Refuses new appends, commits and publishes the pending ones, then ends every subscription. */
  async close(): Promise<void> {
    this.closing = true;
    await this.flush();
    for (const sub of [...this.subscriptions]) sub.close();
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TowerError('invalid_request', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}
