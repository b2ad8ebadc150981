import type { Logger } from 'pino';
import type { StoredEvent } from '../../protocol/events.js';
import type { Bus } from '../../bus/types.js';
import type { Store } from '../../store/types.js';
import type { IdleReader } from './idle-recheck.js';
import { BEHIND, type LiveBatch, type LiveRing, type RingReader } from './live-ring.js';
import { FramedPage, type EventBatch, type FramedBatch, type PageCache, type PageSlice } from './pages.js';
import type { BatchSink, EventSink, FramedSink, SinkSubscription, SubscriptionStats } from './types.js';

/** What every subscription of one EventLog shares (one object, not one per subscriber). */
export interface SubscriptionDeps {
  store: Store;
  pages: PageCache;
  bus: Bus;
  pageSize: number;
  logger: Logger;
  onEnd?: (sub: Subscription) => void;
}

export interface SubscriptionOptions {
  liveQueueLimit: number;
  signal?: AbortSignal | undefined;
  /** Start held: nothing is delivered before the first `resume()`. */
  paused?: boolean | undefined;
}

/**
 * Per ring: reads numbered above this started while the ring was listening with no loss since (a
 * `PageCache.mark()` taken once its bus subscription was active, moved on by `onLoss`). A page from such
 * a read lacks nothing the ring has not seen: whatever was committed after the read began was published
 * into the ring, which holds it or knows it dropped it (`BEHIND`, a store read). So a subscriber's first
 * read may share it however long before its own arming it was read: the session's subscribers connecting
 * at once cost one store read, not one each.
 */
const listening = new WeakMap<LiveRing, number>();

function listeningSince(ring: LiveRing, pages: PageCache): number {
  let mark = listening.get(ring);
  if (mark === undefined) listening.set(ring, (mark = pages.mark()));
  return mark;
}

/**
 * One subscriber's view of a session log, pushed into an `EventSink`. Live events come from the
 * session's shared `LiveRing` (one bus listener per session), whose bus subscription is active before
 * the first store read, so every event committed after that read began is also in the ring: the store
 * covers the past, the ring the present, and seq comparisons against `cursor` stitch them without gap or
 * duplicate. The subscriber holds only its cursor into the ring.
 *
 * What a held subscriber has waiting (the ring's events after its cursor, or after the point it armed
 * at) is bounded by `liveQueueLimit`. Past it the subscription is "behind" and the ring stops keeping
 * events for it; the next step re-arms first and then reads the store from the cursor, so the rejoin is
 * as safe as the start. The same happens if the ring dropped events after the cursor.
 *
 * A state machine, not a loop awaiting promises: an idle subscriber holds no pending promise or closure,
 * only its cursor and flags. A caught-up subscriber is handed each commit's run by the ring's one
 * microtask per session; a store read yields a macrotask turn before every page after the first, so a
 * long catch-up never holds the event loop (and every other session) for more than a page.
 *
 * The bus subscription is asynchronous (a network SUBSCRIBE takes a round trip): the first store read
 * waits for it, so nothing committed in between can fall between the read and the ring. A gap is
 * noticed when a later event arrives; on a lossy bus the last event itself may be lost, so while idle the
 * session's subscribers re-check `lastSeq` on the ring's one backing-off timer (`IdleRecheck`).
 */
export class Subscription implements SinkSubscription, RingReader, IdleReader {
  private cursorSeq: number;
  /**
   * The ring's last seq when this subscription (re-)armed: what its next store read covers at least.
   * Before the first step, everything the ring holds came after its bus subscription, as a queue would.
   */
  private armSeq = 0;
  private behind = false;
  /** Read the store before serving the ring: at start, after an overflow, on a gap, after a full page. */
  private needStore = true;
  /** Cursor at which a gap-triggered store read found nothing new: the store itself lacks those seqs. */
  private gapCheckedAt = -1;
  /**
   * A store read only counts if it started after this mark (see `PageCache`): for the first read, since
   * the ring listens (`listeningSince`); after an overflow, a loss or a gap, since then.
   */
  private freshAfter = 0;
  private ended = false;
  private paused: boolean;
  /** A step is queued as a microtask. */
  private scheduled = false;
  /** Waiting for the bus, a store read or a turn of the loop: the step resumes by itself. */
  private busy = false;
  private active = false;
  private readonly liveQueueLimit: number;
  private readonly signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;
  private readonly counters = { maxQueued: 0, overflows: 0, storeReads: 0, sharedReads: 0 };
  private readonly run = (): void => {
    this.scheduled = false;
    this.step();
  };

  constructor(
    readonly sessionId: string,
    afterSeq: number,
    private readonly sink: EventSink | FramedSink,
    readonly ring: LiveRing,
    private readonly deps: SubscriptionDeps,
    opts: SubscriptionOptions,
  ) {
    this.cursorSeq = afterSeq;
    this.liveQueueLimit = opts.liveQueueLimit;
    this.signal = opts.signal;
    this.paused = opts.paused === true;
    if (opts.signal?.aborted) {
      this.close();
      return;
    }
    ring.add(this, opts.liveQueueLimit);
    if (opts.signal) {
      this.onAbort = () => this.close();
      opts.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.kick();
  }

  /** True once ended (closed, aborted, deleted, unknown session or failed). */
  get closed(): boolean {
    return this.ended;
  }

  get cursor(): number {
    return this.cursorSeq;
  }

  get stats(): SubscriptionStats {
    return { queued: this.queued(), ...this.counters };
  }

  resume(now = false): void {
    if (!this.paused || this.ended) return;
    this.paused = false;
    // A step waiting for a read or the bus goes on by itself; a queued one finds nothing left after this.
    if (now && !this.busy) this.step();
    else this.kick();
  }

  close(): void {
    this.finish(undefined);
  }

  private finish(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.deps.onEnd?.(this);
    this.sink.onEnd?.(err);
  }

  /** Live events waiting for this subscriber in the ring (none while behind: the store has them). */
  private queued(): number {
    if (this.ended || this.behind) return 0;
    return this.ring.countAfter(Math.max(this.cursorSeq, this.armSeq));
  }

  /**
   * The ring's run of a commit (the same batch for every subscriber of the session): handed on as it is
   * when caught up and ready, else counted against the bound. Constant work; never waits for the consumer.
   */
  onRun(batch: LiveBatch): number {
    if (this.ended || this.behind) return Infinity;
    const run = batch.events;
    const first = run[0];
    if (
      this.active &&
      first !== undefined &&
      first.seq === this.cursorSeq + 1 &&
      !this.busy &&
      !this.scheduled &&
      !this.paused &&
      !this.needStore &&
      this.ring.deleted === undefined &&
      consecutive(run)
    ) {
      this.deliver(batch, (run[run.length - 1] as StoredEvent).seq, false);
      return this.cursorSeq;
    }
    const queued = this.queued();
    if (queued > this.liveQueueLimit) {
      this.behind = true;
      this.counters.overflows++;
      this.deps.logger.debug(
        { session_id: this.sessionId, cursor: this.cursorSeq, seq: this.ring.lastSeq },
        'subscriber behind, will catch up from store',
      );
      this.kick();
      return Infinity;
    }
    if (queued > this.counters.maxQueued) this.counters.maxQueued = queued;
    this.kick();
    return Math.max(this.cursorSeq, this.armSeq);
  }

  /** The bus says it may have dropped events (it reconnected): read the store again before the ring. */
  onLoss(): void {
    if (this.ended) return;
    // Subscribers joining later must not share a page read before the loss either.
    listening.set(this.ring, this.deps.pages.mark());
    this.storeAgain();
    this.kick();
  }

  /** A store read is needed that must see everything committed up to now. */
  private storeAgain(): void {
    this.needStore = true;
    this.freshAfter = this.deps.pages.mark();
  }

  private kick(): void {
    if (this.scheduled || this.busy || this.paused || this.ended) return;
    this.scheduled = true;
    queueMicrotask(this.run);
  }

  /** Delivers what can be delivered now; returns when held, idle, or waiting (which steps again itself). */
  private step(): void {
    if (this.busy) return;
    while (!this.ended && !this.paused) {
      if (!this.active) return this.activate();
      if (this.behind) {
        // Re-arm before reading, so events published during the read are kept in the ring, not lost.
        this.behind = false;
        this.arm();
      }
      if (this.needStore) return this.readStore();
      const run = this.ring.runAfter(this.cursorSeq);
      if (run === undefined) {
        this.ring.recheck?.watch();
        return;
      }
      if (run === BEHIND) {
        // The ring dropped events after the cursor (it keeps a bounded number): the store has them.
        this.counters.overflows++;
        this.behind = true;
        continue;
      }
      const head = run.events[0] as StoredEvent;
      if (head.seq > this.cursorSeq + 1 && this.gapCheckedAt !== this.cursorSeq) {
        // Committed before it was published, so the store holds whatever the bus skipped.
        this.gapCheckedAt = this.cursorSeq;
        this.storeAgain();
        continue;
      }
      const end = this.ring.deleted ? run.events.findIndex((e) => e.type === 'session_deleted') : -1;
      const batch = end >= 0 ? untilDeleted(run, end) : run;
      this.deliver(batch, (batch.events[batch.events.length - 1] as StoredEvent).seq, end >= 0);
    }
  }

  /** From now on the ring keeps what this subscriber needs; its next store read covers what came before. */
  private arm(): void {
    this.armSeq = this.ring.lastSeq;
    this.storeAgain();
  }

  private activate(): void {
    this.busy = true;
    this.ring.ready.then(
      () => {
        this.busy = false;
        if (this.ended) return;
        this.active = true;
        this.armSeq = this.ring.lastSeq;
        this.freshAfter = listeningSince(this.ring, this.deps.pages);
        this.step();
      },
      (err: unknown) => {
        this.busy = false;
        this.finish(err);
      },
    );
  }

  private readStore(): void {
    this.busy = true;
    // A catch-up is page after page; on loopback the socket drains at once, so without a macrotask turn
    // between pages one replay would hold the event loop (and every other session).
    if (this.counters.storeReads > 0) setImmediate(() => this.readPage());
    else this.readPage();
  }

  private readPage(): void {
    if (this.ended) return;
    // A first read shares only a short page that reaches what the ring has seen: one that does not would
    // be right too (the ring holds the rest or says BEHIND), but at the cost of a second read.
    const head = this.counters.storeReads === 0 ? this.ring.lastSeq : 0;
    this.counters.storeReads++;
    this.deps.pages.read(this.sessionId, this.cursorSeq, this.deps.pageSize, this.freshAfter, this.sink.frameFormat, head).then(
      (slice) => this.onPage(slice),
      (err: unknown) => this.finish(err),
    );
  }

  private onPage({ page, start, end: n, more, shared }: PageSlice): void {
    this.busy = false;
    if (this.ended) return;
    if (shared) this.counters.sharedReads++;
    this.needStore = more;
    let from = start;
    while (from < n && page.seqAt(from) <= this.cursorSeq) from++;
    if (from < n) {
      const deletion = page.deletionFrom(from);
      const ends = deletion >= 0 && deletion < n;
      const end = ends ? deletion + 1 : n;
      // A framed page is read only for a sink that asked for frames (`frameFormat`).
      const batch = page instanceof FramedPage ? { from: 'framed' as const, page, start: from, end } : { from: 'store' as const, page, start: from, end };
      this.deliver(batch, page.seqAt(end - 1), ends);
      return this.step();
    }
    if (n > 0) return this.step();
    this.busy = true;
    this.deps.store.lastSeq(this.sessionId).then(
      (last) => {
        this.busy = false;
        if (this.ended) return;
        if (last === undefined) this.finishGone();
        else this.step();
      },
      (err: unknown) => {
        this.busy = false;
        this.finish(err);
      },
    );
  }

  /**
   * The session is not in the store: never existed, or deleted (its events went with it). If the bus
   * told us of the deletion, that event is the last thing the subscriber needs to see, even when the
   * events between the cursor and it were deleted with the session before this subscriber read them.
   */
  private finishGone(): void {
    this.deps.pages.drop(this.sessionId);
    if (this.ring.deleted) return this.deliverGone();
    // An in-process delete is published right after its commit; give that publish one turn to land.
    this.busy = true;
    setImmediate(() => {
      this.busy = false;
      this.deliverGone();
    });
  }

  private deliverGone(): void {
    const deleted = this.ring.deleted;
    if (this.ended) return;
    if (!deleted || deleted.seq <= this.cursorSeq) return this.close();
    this.deliver({ from: 'live', events: [deleted] }, deleted.seq, true);
  }

  /** Hands a batch to the sink; `last` is its last seq, `ends` whether it ends with `session_deleted`. */
  private deliver(batch: EventBatch | FramedBatch, last: number, ends: boolean): void {
    this.cursorSeq = last;
    // Activity: a lost event is likeliest right now (a turn's last event), so re-check soon again.
    this.ring.recheck?.touch();
    let answer: boolean | PromiseLike<unknown>;
    try {
      // Framed batches come only from pages read in the sink's own format (see `onPage`).
      answer = (this.sink as BatchSink<EventBatch | FramedBatch>).onBatch(batch);
    } catch (err) {
      this.finish(err);
      return;
    }
    if (ends) return this.close();
    if (answer === true) return;
    this.paused = true;
    if (answer !== false) {
      answer.then(
        () => this.resume(),
        (err: unknown) => this.finish(err),
      );
    }
  }

  /** Idle: waiting for live events, with nothing queued, held or in flight. */
  get idle(): boolean {
    return !this.ended && !this.busy && !this.scheduled && !this.paused && this.ring.lastSeq <= this.cursorSeq && !this.needStore;
  }

  /** The session's idle re-check found the store ahead of this subscriber (or the session gone). */
  recheck(): void {
    this.deps.logger.debug({ session_id: this.sessionId, cursor: this.cursorSeq }, 'idle re-check found missed events');
    this.storeAgain();
    this.kick();
  }
}

/** A live run cut after its `session_deleted` (at `end`). */
function untilDeleted(run: LiveBatch, end: number): LiveBatch {
  return { from: 'live', events: run.events.slice(0, end + 1), dataJson: run.dataJson?.slice(0, end + 1), sessionJson: run.sessionJson };
}

function consecutive(run: readonly StoredEvent[]): boolean {
  for (let i = 1; i < run.length; i++) if ((run[i] as StoredEvent).seq !== (run[i - 1] as StoredEvent).seq + 1) return false;
  return true;
}
