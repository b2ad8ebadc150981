import type { StoredEvent } from '../../protocol/events.js';
import type { Bus, DataJson } from '../../bus/types.js';
import type { IdleReader, IdleRecheck } from './idle-recheck.js';

/** A commit's run of live events as one batch, the same object for every reader (read-only). */
export interface LiveBatch {
  readonly from: 'live';
  readonly events: readonly StoredEvent[];
  /** Parallel to `events`: each payload's stored JSON text where the bus carried it (`BusListener`). */
  readonly dataJson?: DataJson;
  /** `JSON.stringify` of the events' session id, where the ring made the batch (one session's events). */
  readonly sessionJson?: string;
}

/** What a `LiveRing` asks of each subscriber it serves (implemented by `Subscription`). */
export interface RingReader extends IdleReader {
  /**
   * A commit's run of new events (`run.events`, ascending; one batch object for every subscriber, so
   * a caught-up one hands it to its sink as it is) has landed. Take it now if caught up and ready;
   * otherwise note it (lag, overflow) and step later from the ring. Returns the seq below which this
   * reader no longer needs the ring (what the ring may drop).
   */
  onRun(run: LiveBatch): number;
  /** The bus may have lost events: read the store again. */
  onLoss(): void;
}

/** `LiveRing.runAfter` when the ring cannot serve the cursor: it dropped events after it. */
export const BEHIND = 'behind';

/**
 * One session's live events, shared by every subscriber of that session in this process: one bus
 * listener and one bounded ring of recent events per session, not one listener and queue per subscriber.
 * Each subscriber keeps only its cursor (a seq) into the ring. When a commit's events land, one microtask
 * per session hands the same run of events to every subscriber that is caught up (so their transports
 * encode the run once); the others step from the ring when ready, or from the store if the ring moved
 * past their cursor. The ring keeps what the slowest subscriber that is not behind still needs, and never
 * more than `capacity` events.
 */
export class LiveRing {
  private events: StoredEvent[] = [];
  /** Parallel to `events`: each one's payload text from the bus (undefined where it had none). */
  private json: Array<string | undefined> = [];
  /** Index of the oldest kept event in `events` (dropped ones are trimmed off lazily). */
  private head = 0;
  /** Seq of the newest event ever dropped from the ring: cursors below it cannot be served. */
  private droppedSeq = 0;
  /** Seq of the newest event handed out by the last flush. */
  private flushedSeq = 0;
  private scheduled = false;
  private readonly readers = new Set<RingReader>();
  /** On a lossy bus, the session's one idle re-check of the store (see `IdleRecheck`), shared by its readers. */
  readonly recheck: IdleRecheck | undefined;
  /** Settles once the bus subscription is active (or failed). */
  readonly ready: Promise<void>;
  /** The session's `session_deleted`, once seen (kept even when trimmed). */
  deleted: StoredEvent | undefined;
  private off: (() => void) | undefined;
  private closed = false;
  /** The session id as JSON text, for transports that splice it into frames (made once per session). */
  private sessionJsonText: string | undefined;

  /**
   * Rings with new events, flushed in one microtask per commit (in the order they got them), not one
   * microtask per session: a commit at 500 sessions touches 500 rings.
   */
  private static due: LiveRing[] = [];

  private static readonly flushDue = (): void => {
    const rings = LiveRing.due;
    LiveRing.due = [];
    for (const ring of rings) {
      try {
        ring.flushRun();
      } catch (err) {
        // A reader's bug: thrown as its own microtask would have thrown it; the other rings still flush.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  };

  constructor(
    readonly sessionId: string,
    bus: Bus,
    private capacity: number,
    private readonly onDeleted: () => void,
    recheck?: (readers: Iterable<RingReader>) => IdleRecheck,
  ) {
    this.recheck = recheck?.(this.readers);
    this.ready = bus.subscribe(sessionId, (event, json) => this.onLive(event, json), { onLoss: () => this.onLoss() }).then((off) => {
      if (this.closed) off();
      else this.off = off;
    });
    this.ready.catch(() => undefined);
  }

  get size(): number {
    return this.readers.size;
  }

  /** Seq of the newest event in the ring (0 when it never held one). */
  get lastSeq(): number {
    return this.events[this.events.length - 1]?.seq ?? this.droppedSeq;
  }

  add(reader: RingReader, limit: number): void {
    this.readers.add(reader);
    if (limit > this.capacity) this.capacity = limit;
  }

  /** Removes a reader; returns true when it was the last (the ring is closed then). */
  remove(reader: RingReader): boolean {
    this.readers.delete(reader);
    if (this.readers.size > 0) return false;
    this.closed = true;
    this.recheck?.stop();
    this.off?.();
    this.off = undefined;
    this.events = [];
    this.json = [];
    this.head = 0;
    return true;
  }

  /**
   * The run of events right after `cursor` (ascending, consecutive seqs), `undefined` when there is
   * nothing after it, or `BEHIND` when the ring dropped events after it. Its first seq is above
   * `cursor + 1` when the bus skipped events (a lossy bus): the caller checks.
   */
  runAfter(cursor: number): LiveBatch | typeof BEHIND | undefined {
    if (this.lastSeq <= cursor) return undefined;
    if (cursor < this.droppedSeq) return BEHIND;
    const events = this.events;
    const lo = this.indexAfter(cursor);
    let end = lo + 1;
    while (end < events.length && (events[end] as StoredEvent).seq === (events[end - 1] as StoredEvent).seq + 1) end++;
    return { from: 'live', events: events.slice(lo, end), dataJson: this.json.slice(lo, end), sessionJson: (this.sessionJsonText ??= JSON.stringify(this.sessionId)) };
  }

  /** Events kept with a seq above `seq`. */
  countAfter(seq: number): number {
    return this.events.length - this.indexAfter(seq);
  }

  private indexAfter(seq: number): number {
    const events = this.events;
    let lo = this.head;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((events[mid] as StoredEvent).seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Runs inside Bus.publish: one push per event; the rings of one commit share one microtask. */
  private onLive(event: StoredEvent, json: string | undefined): void {
    if (this.closed) return;
    if (event.type === 'session_deleted') {
      this.deleted = event;
      this.onDeleted();
    }
    // Bus order is seq order per session; a repeat (a network bus after a reconnect) is dropped.
    if (event.seq <= this.lastSeq) return;
    this.events.push(event);
    this.json.push(json);
    if (!this.scheduled) {
      this.scheduled = true;
      if (LiveRing.due.push(this) === 1) queueMicrotask(LiveRing.flushDue);
    }
  }

  private onLoss(): void {
    for (const r of this.readers) r.onLoss();
  }

  private flushRun(): void {
    this.scheduled = false;
    if (this.closed) return;
    const run = this.runSince(this.flushedSeq);
    this.flushedSeq = this.lastSeq;
    const handed = run.events === this.events;
    let keepAfter = this.flushedSeq;
    for (const r of this.readers) {
      const needs = r.onRun(run);
      if (needs < keepAfter) keepAfter = needs;
    }
    this.trim(keepAfter, handed);
  }

  /**
   * Every event newer than `seq` (one batch, handed to all readers). When that is all the ring holds (the
   * common case: caught-up readers leave it empty after each flush), the ring's own arrays are the run:
   * `trim` then never changes them again.
   */
  private runSince(seq: number): LiveBatch {
    const events = this.events;
    const sessionJson = (this.sessionJsonText ??= JSON.stringify(this.sessionId));
    let i = events.length;
    while (i > this.head && (events[i - 1] as StoredEvent).seq > seq) i--;
    if (i === 0) return { from: 'live', events, dataJson: this.json, sessionJson };
    return { from: 'live', events: events.slice(i), dataJson: this.json.slice(i), sessionJson };
  }

  /**
   * Drops what no reader needs (seq <= keepAfter) and anything past the capacity. `handed`: the arrays
   * went out as a run, so what is kept is kept in copies (a batch never changes after it is handed out).
   */
  private trim(keepAfter: number, handed = false): void {
    const events = this.events;
    let head = this.head;
    while (head < events.length && ((events[head] as StoredEvent).seq <= keepAfter || events.length - head > this.capacity)) {
      this.droppedSeq = (events[head] as StoredEvent).seq;
      head++;
    }
    if (head === events.length) {
      this.events = [];
      this.json = [];
      this.head = 0;
    } else if (handed || (head > 64 && head * 2 > events.length)) {
      this.events = events.slice(head);
      this.json = this.json.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }
}
