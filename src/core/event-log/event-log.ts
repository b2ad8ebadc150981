import pino, { type Logger } from 'pino';
import { TowerError } from '../../protocol/errors.js';
import type { StoredMessage } from '../../protocol/conversation.js';
import { storedEventOf, type NewEvent, type StoredEvent } from '../../protocol/events.js';
import type { Bus, DataJson } from '../../bus/types.js';
import type { CommitEntry, CommitResult, SessionRecord, Store } from '../../store/types.js';
import { GroupCommit, type AddCallback } from './group-commit.js';
import { IdleRecheck, systemTimers, type IdleReader, type IdleTimers } from './idle-recheck.js';
import { IteratedSubscription } from './iterator.js';
import { LiveRing } from './live-ring.js';
import { PageCache } from './pages.js';
import { Subscription, type SubscriptionDeps } from './subscription.js';
import type { AppendEffects, EventLogOptions, EventSink, EventSubscription, FramedSink, SinkSubscription, SubscribeOptions } from './types.js';

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
  private readonly timers: IdleTimers;
  private closing = false;
  private readonly taps = new Set<(events: readonly StoredEvent[]) => void>();
  private readonly pages: PageCache;
  private readonly subscriptionDeps: SubscriptionDeps;
  /** One live ring (one bus listener) per session with subscribers in this process. */
  private readonly rings = new Map<string, LiveRing>();
  /** `importWith` calls in flight: `flush` waits for them like for appends. */
  private readonly imports = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    opts: EventLogOptions = {},
  ) {
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.pageSize = positiveInt(opts.pageSize ?? DEFAULT_PAGE_SIZE, 'pageSize');
    this.liveQueueLimit = positiveInt(opts.liveQueueLimit ?? DEFAULT_LIVE_QUEUE_LIMIT, 'liveQueueLimit');
    this.idleRecheckMs = positiveInt(opts.idleRecheckMs ?? DEFAULT_IDLE_RECHECK_MS, 'idleRecheckMs');
    this.timers = opts.timers ?? systemTimers;
    this.pages = new PageCache(store, opts.pages);
    this.subscriptionDeps = {
      store,
      pages: this.pages,
      bus,
      pageSize: this.pageSize,
      // No child logger per subscription: with thousands of idle subscribers each costs memory.
      logger: this.logger,
      onEnd: (s) => {
        this.subscriptions.delete(s);
        this.pages.release(s.sessionId);
        if (s.ring.remove(s) && this.rings.get(s.sessionId) === s.ring) this.rings.delete(s.sessionId);
      },
    };
    this.commits = new GroupCommit(store, (events, dataJson) => this.published(events, dataJson), this.logger, opts.commits, (ids) =>
      this.recheck(ids),
    );
  }

  /**
   * Appends one event; resolves once it is committed and published. Appends made in the same tick share
   * one transaction; if it fails, every append of that batch rejects with its error and nothing is
   * published.
   */
  append(sessionId: string, event: NewEvent, effects: AppendEffects = {}): Promise<CommitResult> {
    if (this.closing) return Promise.reject(new TowerError('internal', 'event log is closed'));
    return this.commits.add(toEntry(sessionId, event, effects));
  }

  /**
   * `append` for the per-token path: the outcome goes to `done` (never synchronously, exactly once), so
   * an append costs no promise. Same order, batching and commit-then-publish as `append`.
   */
  appendWith(sessionId: string, event: NewEvent, effects: AppendEffects, done: AddCallback): void {
    if (this.closing) {
      queueMicrotask(() => done(new TowerError('internal', 'event log is closed')));
      return;
    }
    this.commits.addWith(toEntry(sessionId, event, effects), done);
  }

  /** Appends several events of one session in one transaction: all of them land, or none. */
  appendAll(sessionId: string, items: Array<{ event: NewEvent; effects?: AppendEffects }>): Promise<CommitResult[]> {
    if (this.closing) return Promise.reject(new TowerError('internal', 'event log is closed'));
    return this.commits.addGroup(items.map((i) => toEntry(sessionId, i.event, i.effects ?? {})));
  }

  /**
   * Writes a new session from copied history (`events` with their seqs 1..N, its conversation) and
   * appends `next` as seq N+1, all in one store transaction (`Store.importSession`): the session exists
   * whole or not at all. Then `next` alone is published, as an append of it would be; the copied events
   * were published under their own session already. What fork is made of.
   */
  importWith(session: SessionRecord, messages: StoredMessage[], events: StoredEvent[], next: NewEvent): Promise<StoredEvent> {
    if (this.closing) return Promise.reject(new TowerError('internal', 'event log is closed'));
    const event = storedEventOf(session.id, events.length + 1, next.type, next.data, new Date().toISOString());
    const done = (async () => {
      await this.store.importSession({ ...session, last_event_seq: event.seq }, messages, [...events, event]);
      await this.published([event]);
      return event;
    })();
    const tracked = done.then(ignore, ignore);
    this.imports.add(tracked);
    void tracked.then(() => this.imports.delete(tracked));
    return done;
  }

  /** Appends waiting for a commit: what writers apply backpressure on. */
  get pendingAppends(): number {
    return this.commits.depth;
  }

  /** Resolves when everything appended so far is committed and published (or has failed). */
  async flush(): Promise<void> {
    await Promise.all([this.commits.settled(), ...this.imports]);
  }

  /**
   * Events with seq > afterSeq, stored then live, in batches (typed objects, pulled one batch per
   * `next()`). Ends after `session_deleted`, at once for an unknown session, and promptly on `signal`
   * abort or `close()`.
   */
  subscribe(sessionId: string, afterSeq: number, opts: SubscribeOptions = {}): EventSubscription {
    const iterated = new IteratedSubscription();
    iterated.attach(this.subscribeSink(sessionId, afterSeq, iterated, { ...opts, paused: true }));
    return iterated;
  }

  /**
   * The same events pushed into `sink` as they come (store pages as stored rows, or as frames for a
   * `FramedSink`; live events as the bus's objects), held while the sink says so. What transports serve subscribers with: an idle
   * subscription holds no promise, and catch-up pages are shared between the session's subscribers.
   */
  subscribeSink(sessionId: string, afterSeq: number, sink: EventSink | FramedSink, opts: SubscribeOptions = {}): SinkSubscription {
    if (!Number.isInteger(afterSeq) || afterSeq < 0) {
      throw new TowerError('invalid_request', `afterSeq must be a non-negative integer, got ${afterSeq}`);
    }
    const liveQueueLimit = positiveInt(opts.liveQueueLimit ?? this.liveQueueLimit, 'liveQueueLimit');
    this.pages.retain(sessionId);
    const sub = new Subscription(sessionId, afterSeq, sink, this.ringOf(sessionId, liveQueueLimit), this.subscriptionDeps, {
      liveQueueLimit,
      signal: opts.signal,
      paused: opts.paused,
    });
    if (this.closing) sub.close();
    if (!sub.closed) this.subscriptions.add(sub);
    return sub;
  }

  /**
   * A seq the session's log is known to have reached, read from what this process holds for its
   * subscribers (the newest event its live ring has seen, the newest row of a cached catch-up page), no
   * store read; undefined when it holds nothing for the session or saw it deleted, and always on a lossy
   * bus (which may have lost the delete). Heads only grow while a session lives, so a `since` at or below
   * it is within the log.
   */
  knownHead(sessionId: string): number | undefined {
    const ring = this.rings.get(sessionId);
    if (!ring || ring.deleted || this.bus.lossy) return undefined;
    const head = Math.max(ring.lastSeq, this.pages.newestSeq(sessionId));
    return head > 0 ? head : undefined;
  }

  /** The session's ring, made on its first subscriber; a ring whose bus subscription failed is replaced. */
  private ringOf(sessionId: string, limit: number): LiveRing {
    let ring = this.rings.get(sessionId);
    if (!ring) {
      const recheck = this.bus.lossy
        ? (readers: Iterable<IdleReader>) => new IdleRecheck(sessionId, readers, this.store, this.idleRecheckMs, this.timers, this.logger)
        : undefined;
      const made = new LiveRing(sessionId, this.bus, Math.max(limit, this.liveQueueLimit), () => this.pages.drop(sessionId), recheck);
      made.ready.catch(() => {
        if (this.rings.get(sessionId) === made) this.rings.delete(sessionId);
      });
      this.rings.set(sessionId, (ring = made));
    }
    return ring;
  }

  /**
   * Calls `listener` with every batch of events this process commits, all sessions, in commit order, right
   * after the bus publish. It is a live view only (nothing is replayed): transports that broadcast derived
   * frames (hub task stream, bus topics) use it, and their clients recover what they missed by seq.
   * Returns the untap. A listener that throws is logged and kept.
   */
  tap(listener: (events: readonly StoredEvent[]) => void): () => void {
    const entry = (events: readonly StoredEvent[]): void => listener(events);
    this.taps.add(entry);
    return () => this.taps.delete(entry);
  }

  /** Not `async`: the bus's own promise is returned, one frame and microtask fewer per commit. */
  private published(events: readonly StoredEvent[], dataJson?: DataJson): Promise<void> {
    // Taps run while the bus publishes (a network bus may take a round trip): they only read the batch.
    const publishing = this.bus.publish(events, dataJson);
    for (const e of events) if (e.type === 'session_deleted') this.pages.drop(e.session_id);
    for (const tap of this.taps) {
      try {
        tap(events);
      } catch (err) {
        this.logger.error({ err }, 'event log tap threw');
      }
    }
    return publishing;
  }

  /** Number of open subscriptions (diagnostics). */
  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  /** Refuses new appends, commits and publishes the pending ones, then ends every subscription. */
  async close(): Promise<void> {
    this.closing = true;
    await this.flush();
    this.commits.close();
    for (const sub of [...this.subscriptions]) sub.close();
  }

  /** Events of these sessions may be stored unpublished (a commit of unknown outcome): read the store. */
  private recheck(sessionIds: readonly string[]): void {
    const ids = new Set(sessionIds);
    for (const sub of this.subscriptions) if (ids.has(sub.sessionId)) sub.onLoss();
  }
}

let stampMs = Number.NaN;
let stamp = '';

/**
 * The ISO timestamp of now. Appends come by the thousand per second, and a `Date` plus its formatting
 * per event was a measurable part of each token's cost: the text is made once per millisecond.
 */
function isoNow(): string {
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

function toEntry(sessionId: string, event: NewEvent, effects: AppendEffects): CommitEntry {
  const entry: CommitEntry = {
    session_id: sessionId,
    type: event.type,
    data: event.data,
    timestamp: isoNow(),
  };
  if (effects.message) entry.message = effects.message;
  if (effects.replace_last_message) entry.replace_last_message = effects.replace_last_message;
  if (effects.session) entry.session = effects.session;
  if (effects.delete_session) entry.delete_session = true;
  if (effects.state) entry.state = effects.state;
  if (effects.expect_state) entry.expect_state = effects.expect_state;
  if (effects.create_session) entry.create_session = effects.create_session;
  return entry;
}

const ignore = (): void => {};

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TowerError('invalid_request', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}
