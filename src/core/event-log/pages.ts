import { performance } from 'node:perf_hooks';
import type { DataJson } from '../../bus/types.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { FrameFormat, FramedRows } from '../../protocol/wire-frames.js';
import { parseRawEvent, type RawStoredEvent } from '../../protocol/wire-json.js';
import type { Store } from '../../store/types.js';

const ROW_OVERHEAD = 96;

/** What the engine and the cache need of any page: its rows' seqs and where the log ends in it. */
abstract class Page {
  constructor(
    readonly sessionId: string,
    readonly afterSeq: number,
    /** The read returned as many rows as it asked for: the log may go on after the last row. */
    readonly full: boolean,
    /** Which read produced it (see `PageCache.mark`). */
    readonly readId: number,
  ) {}

  abstract get length(): number;
  abstract seqAt(i: number): number;
  /** Index of the first `session_deleted` row at or after `from`; -1 when none. */
  abstract deletionFrom(from: number): number;
  /** Rough bytes held (what the page cache counts). */
  abstract get bytes(): number;
  /** The frame format it holds frames in; undefined for rows. */
  abstract get format(): FrameFormat | undefined;

  get lastSeq(): number {
    return this.length > 0 ? this.seqAt(this.length - 1) : this.afterSeq;
  }

  /** Index of the first row with a seq above `seq` (length when none). */
  indexAfter(seq: number): number {
    // Seqs are gap-free, so the guess is right unless the page was imported with holes.
    const n = this.length;
    const guess = seq - this.afterSeq;
    if (guess >= 0 && guess <= n && (guess === 0 || this.seqAt(guess - 1) <= seq) && (guess === n || this.seqAt(guess) > seq)) return guess;
    let i = 0;
    while (i < n && this.seqAt(i) <= seq) i++;
    return i;
  }
}

/**
 * One store read: a session's rows after `afterSeq`, as stored (payloads as JSON text). Immutable and
 * shared by every subscriber that catches up over it, so transports can key their encoded frames by it
 * (one encoding per page, however many subscribers read it).
 */
export class StoredPage extends Page {
  private parsed: StoredEvent[] | undefined;
  private size: number | undefined;

  constructor(sessionId: string, afterSeq: number, readonly rows: readonly RawStoredEvent[], full: boolean, readId: number) {
    super(sessionId, afterSeq, full, readId);
  }

  get length(): number {
    return this.rows.length;
  }

  seqAt(i: number): number {
    return (this.rows[i] as RawStoredEvent).seq;
  }

  deletionFrom(from: number): number {
    for (let i = from; i < this.rows.length; i++) if ((this.rows[i] as RawStoredEvent).type === 'session_deleted') return i;
    return -1;
  }

  get bytes(): number {
    return (this.size ??= this.rows.reduce((n, r) => n + r.data.length + ROW_OVERHEAD, 0));
  }

  get format(): undefined {
    return undefined;
  }

  /** The rows as typed events: parsed on first use, then shared (read them, never mutate them). */
  events(): readonly StoredEvent[] {
    return (this.parsed ??= this.rows.map(parseRawEvent));
  }
}

/**
 * One store read already framed for a transport (`FrameFormat`): the page's frames as one run of bytes
 * and its seqs, no row objects. Read for sinks that asked for frames (`FramedSink`), shared like rows.
 */
export class FramedPage extends Page {
  constructor(
    sessionId: string,
    afterSeq: number,
    readonly framed: FramedRows,
    readonly format: FrameFormat,
    full: boolean,
    readId: number,
  ) {
    super(sessionId, afterSeq, full, readId);
  }

  get length(): number {
    return this.framed.seqs.length;
  }

  seqAt(i: number): number {
    return this.framed.seqs[i] as number;
  }

  deletionFrom(from: number): number {
    for (const seq of this.framed.deletedSeqs) {
      const i = this.indexAfter(seq) - 1;
      if (i >= from) return i;
    }
    return -1;
  }

  get bytes(): number {
    return this.framed.bytes.byteLength + this.framed.seqs.length * 8;
  }
}

export type CatchUpPage = StoredPage | FramedPage;

type RowsFrom<P> = { readonly page: P; readonly start: number; readonly end: number };
/** The bus's objects, the same for every subscriber; `dataJson` and `sessionJson` as in live-ring.ts's `LiveBatch`. */
export type LiveBatch = { readonly from: 'live'; readonly events: readonly StoredEvent[]; readonly dataJson?: DataJson; readonly sessionJson?: string };

/**
 * What one subscriber gets in one call, ascending, right after what it got before: live events (the
 * bus's objects, the same for every subscriber) or rows `start..end` of a shared store page.
 */
export type EventBatch = LiveBatch | ({ readonly from: 'store' } & RowsFrom<StoredPage>);

/** `EventBatch` for a sink that reads framed pages: stored rows come as frames of a `FramedPage`. */
export type FramedBatch = LiveBatch | ({ readonly from: 'framed' } & RowsFrom<FramedPage>);

/** The batch's events as objects (a store page's are parsed once and shared). */
export function batchEvents(batch: EventBatch): StoredEvent[] {
  return batch.from === 'live' ? batch.events.slice() : batch.page.events().slice(batch.start, batch.end);
}

/**
 * A page and the caller's rows in it, `start..end`; `more`: the log may go on after `end` (after the
 * page, or the rest of a shared page this delivery did not take: see `PageCacheOptions.sliceBytes`).
 */
export interface PageSlice {
  page: CatchUpPage;
  start: number;
  end: number;
  more: boolean;
  /** Served by a page another read produced (cached, or in flight and joined). */
  shared: boolean;
}

export interface PageCacheOptions {
  /** Rows' bytes (roughly) kept over all sessions. Default 8 MiB. */
  maxBytes?: number;
  /** Pages kept per session (within `maxBytes`). Default 32. */
  perSession?: number;
  /**
   * Milliseconds of the event loop one store read may hold (SQLite reads synchronously): a session's
   * pages shrink below the asked `limit` to fit, by its measured cost per row. Default 3.
   */
  readBudgetMs?: number;
  /** The clock those milliseconds are read from (tests). */
  now?: () => number;
  /**
   * Bytes (roughly, by the page's mean row size) one subscriber takes of a shared page in one delivery;
   * the rest is served from the same cached page in its next step. Default 64 KiB. See `PageCache`.
   */
  sliceBytes?: number;
}

interface SessionPages {
  /** Open subscriptions of the session in this process: pages are kept only while there are some. */
  users: number;
  pages: CatchUpPage[];
  /** Bumped by `drop`: a read that started before a delete is not kept. */
  generation: number;
  /** Keyed by `flightKey`. */
  inFlight: Map<number | string, { readId: number; result: Promise<CatchUpPage> }>;
  /** Measured synchronous cost of this session's store reads per row (ms); 0 before the first. */
  msPerRow: number;
}

/** Rows a read must have for its time to be a cost per row (fewer: the query's fixed cost dominates). */
const MEASURED_ROWS = 16;
/** The fewest rows a shared slice holds (a page of huge rows still moves on). */
const MIN_SLICE_ROWS = 16;


/**
 * Recent store pages per session, so subscribers catching up over the same range (a burst that
 * overflowed every subscriber, many clients resuming at once) share one read and one encoding.
 *
 * A cached page may serve a subscriber only if nothing committed after the read can be missing from
 * what that subscriber gets live: a full page is a closed range (the subscriber reads on after it
 * anyway), a short one must come from a read numbered above the caller's `freshAfter` (a `mark()`: for
 * a first read, taken when the session's live ring began listening, so one short page serves every
 * subscriber that connects while nothing is committed; after a loss or an overflow, taken then). Reads
 * in flight are joined on the same terms.
 *
 * A shared page is handed out in slices of about `sliceBytes`: when a burst overflows every subscriber,
 * each takes one delivery per loop turn (a store read yields a turn first, see `Subscription`), so a
 * turn's check phase writes one slice per subscriber. Whole 500-row pages made that 200 x ~125 KB of
 * socket writes in one phase (40-100 ms before any other request was read, fanout-sse-overload); a
 * slice bounds what each subscriber writes per turn without making any of them wait for another (the
 * loop is saturated then anyway: the same bytes go out over more, shorter turns). A page read for one
 * subscriber alone (a replay) is delivered whole.
 */
export class PageCache {
  private reads = 0;
  private held = 0;
  /** Insertion order is recency: the first session is the one evicted from. */
  private readonly sessions = new Map<string, SessionPages>();
  private readonly maxBytes: number;
  private readonly perSession: number;
  private readonly budgetMs: number;
  private readonly now: () => number;
  private readonly sliceBytes: number;

  constructor(
    private readonly store: Store,
    opts: PageCacheOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    this.perSession = opts.perSession ?? 32;
    this.budgetMs = opts.readBudgetMs ?? 3;
    this.now = opts.now ?? (() => performance.now());
    this.sliceBytes = opts.sliceBytes ?? 64 * 1024;
  }

  /** Reads numbered above the value returned now start after this call. */
  mark(): number {
    return this.reads;
  }

  /** Bytes held now (diagnostics, tests). */
  get heldBytes(): number {
    return this.held;
  }

  /** The newest seq of the session's cached pages (0 when none): the log had reached it when read. */
  newestSeq(sessionId: string): number {
    let seq = 0;
    for (const p of this.sessions.get(sessionId)?.pages ?? []) if (p.lastSeq > seq) seq = p.lastSeq;
    return seq;
  }

  retain(sessionId: string): void {
    this.entry(sessionId).users++;
  }

  /** The last subscription of the session here ended: its pages go (nobody here would see a delete). */
  release(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.users--;
    if (s.users <= 0) this.dropEntry(sessionId, s);
  }

  /** Forgets a session's pages (it was deleted). */
  drop(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    for (const p of s.pages) this.held -= p.bytes;
    s.pages = [];
    s.generation++;
    s.inFlight.clear();
  }

  /**
   * Rows after `afterSeq`, at most `limit`, from a usable cached page, a read in flight, or the store:
   * a `StoredPage` of rows, or with `format` a `FramedPage` of frames in that format. A cached short
   * page serves only if it reaches `head` (a seq the caller knows was committed).
   */
  async read(sessionId: string, afterSeq: number, limit: number, freshAfter: number, format?: FrameFormat, head = 0): Promise<PageSlice> {
    const s = this.sessions.get(sessionId);
    const key = flightKey(afterSeq, format);
    if (s) {
      for (const page of s.pages) {
        if (page.format === format && page.afterSeq <= afterSeq && page.lastSeq > afterSeq && (page.full || (page.readId > freshAfter && page.lastSeq >= head))) {
          this.touch(sessionId, s);
          return this.sharedSlice(page, page.indexAfter(afterSeq));
        }
      }
      const flight = s.inFlight.get(key);
      if (flight && flight.readId > freshAfter) return this.sharedSlice(await flight.result, 0);
    }
    const readId = ++this.reads;
    const generation = s?.generation;
    // Big payloads make a page of `limit` rows hold the loop (and every other request) for long: ask for
    // what fits the budget at the session's measured cost per row.
    const rows = s && s.msPerRow > 0 ? Math.max(1, Math.min(limit, Math.floor(this.budgetMs / s.msPerRow))) : limit;
    const t0 = this.now();
    const result = format
      ? this.readFramed(sessionId, afterSeq, rows, format, readId)
      : this.store.readEventsRaw(sessionId, afterSeq, rows).then((raw) => new StoredPage(sessionId, afterSeq, raw, raw.length >= rows, readId));
    // What the read held the loop for: a synchronous store did all its work in the call.
    const held = this.now() - t0;
    s?.inFlight.set(key, { readId, result });
    try {
      const page = await result;
      if (s && page.length >= MEASURED_ROWS) s.msPerRow = s.msPerRow > 0 ? (s.msPerRow + held / page.length) / 2 : held / page.length;
      if (s && s.generation === generation) this.keep(s, sessionId, page);
      return { page, start: 0, end: page.length, more: page.full, shared: false };
    } finally {
      if (s?.inFlight.get(key)?.result === result) s.inFlight.delete(key);
    }
  }

  /** Rows `start..` of a page other reads share, cut to about `sliceBytes` (the tail goes with it if small). */
  private sharedSlice(page: CatchUpPage, start: number): PageSlice {
    const n = page.length;
    const bytes = page.bytes;
    let end = n;
    if (bytes > this.sliceBytes && n > 0) {
      const rows = Math.max(MIN_SLICE_ROWS, Math.floor((this.sliceBytes * n) / bytes));
      if (n - start > rows + (rows >> 2)) end = start + rows;
    }
    return { page, start, end, more: page.full || end < n, shared: true };
  }

  /** Frames of one store read (built in SQL by SQLite, else from the store's raw rows). */
  private async readFramed(sessionId: string, afterSeq: number, limit: number, format: FrameFormat, readId: number): Promise<FramedPage> {
    const framed = await this.store.readEventFrames(sessionId, afterSeq, limit, format);
    return new FramedPage(sessionId, afterSeq, framed, format, framed.seqs.length >= limit, readId);
  }

  private keep(s: SessionPages, sessionId: string, page: CatchUpPage): void {
    if (s.users <= 0 || page.length === 0 || this.sessions.get(sessionId) !== s) return;
    const bytes = page.bytes;
    if (bytes > this.maxBytes / 4) return;
    s.pages.push(page);
    this.held += bytes;
    if (s.pages.length > this.perSession) this.held -= (s.pages.shift() as CatchUpPage).bytes;
    this.touch(sessionId, s);
    for (const [id, other] of this.sessions) {
      if (this.held <= this.maxBytes) break;
      while (other.pages.length > 0 && this.held > this.maxBytes) this.held -= (other.pages.shift() as CatchUpPage).bytes;
      if (other.users <= 0) this.sessions.delete(id);
    }
  }

  private entry(sessionId: string): SessionPages {
    let s = this.sessions.get(sessionId);
    if (!s) this.sessions.set(sessionId, (s = { users: 0, pages: [], generation: 0, inFlight: new Map(), msPerRow: 0 }));
    return s;
  }

  private touch(sessionId: string, s: SessionPages): void {
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, s);
  }

  private dropEntry(sessionId: string, s: SessionPages): void {
    for (const p of s.pages) this.held -= p.bytes;
    this.sessions.delete(sessionId);
  }
}

/** Formats get small ids so a read in flight is keyed by format and position together. */
const formatIds = new WeakMap<FrameFormat, number>();
let nextFormatId = 1;
function flightKey(afterSeq: number, format: FrameFormat | undefined): number | string {
  if (!format) return afterSeq;
  let id = formatIds.get(format);
  if (id === undefined) formatIds.set(format, (id = nextFormatId++));
  return `${id}:${afterSeq}`;
}
