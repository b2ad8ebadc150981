import type { StoredEvent } from '../../protocol/events.js';
import { parseRawEvent, type RawStoredEvent } from '../../protocol/wire-json.js';
import type { Store } from '../../store/types.js';

const ROW_OVERHEAD = 96;

/**
 * One store read: a session's rows after `afterSeq`, as stored (payloads as JSON text). Immutable and
 * shared by every subscriber that catches up over it, so transports can key their encoded frames by it
 * (one encoding per page, however many subscribers read it).
 */
export class StoredPage {
  private parsed: StoredEvent[] | undefined;
  private size: number | undefined;

  constructor(
    readonly sessionId: string,
    readonly afterSeq: number,
    readonly rows: readonly RawStoredEvent[],
    /** The read returned as many rows as it asked for: the log may go on after the last row. */
    readonly full: boolean,
    /** Which read produced it (see `PageCache.mark`). */
    readonly readId: number,
  ) {}

  get lastSeq(): number {
    return this.rows[this.rows.length - 1]?.seq ?? this.afterSeq;
  }

  /** Rough bytes held by the rows (what the page cache counts). */
  get bytes(): number {
    return (this.size ??= this.rows.reduce((n, r) => n + r.data.length + ROW_OVERHEAD, 0));
  }

  /** The rows as typed events: parsed on first use, then shared (read them, never mutate them). */
  events(): readonly StoredEvent[] {
    return (this.parsed ??= this.rows.map(parseRawEvent));
  }

  /** Index of the first row with a seq above `seq` (rows.length when none). */
  indexAfter(seq: number): number {
    // Seqs are gap-free, so the guess is right unless the page was imported with holes.
    const guess = seq - this.afterSeq;
    if (guess >= 0 && guess <= this.rows.length && (this.rows[guess - 1]?.seq ?? -Infinity) <= seq && (this.rows[guess]?.seq ?? Infinity) > seq) {
      return guess;
    }
    let i = 0;
    while (i < this.rows.length && (this.rows[i]?.seq ?? 0) <= seq) i++;
    return i;
  }
}

/**
 * What one subscriber gets in one call, ascending, right after what it got before: live events (the
 * bus's objects, the same for every subscriber) or rows `start..end` of a shared store page.
 */
export type EventBatch =
  | { readonly from: 'live'; readonly events: readonly StoredEvent[] }
  | { readonly from: 'store'; readonly page: StoredPage; readonly start: number; readonly end: number };

/** The batch's events as objects (a store page's are parsed once and shared). */
export function batchEvents(batch: EventBatch): StoredEvent[] {
  return batch.from === 'live' ? batch.events.slice() : batch.page.events().slice(batch.start, batch.end);
}

/** A page and where the caller's rows start in it; `more`: the log may go on after the page. */
export interface PageSlice {
  page: StoredPage;
  start: number;
  more: boolean;
  /** Served by a page another read produced (cached, or in flight and joined). */
  shared: boolean;
}

export interface PageCacheOptions {
  /** Rows' bytes (roughly) kept over all sessions. Default 8 MiB. */
  maxBytes?: number;
  /** Pages kept per session. Default 4. */
  perSession?: number;
}

interface SessionPages {
  /** Open subscriptions of the session in this process: pages are kept only while there are some. */
  users: number;
  pages: StoredPage[];
  /** Bumped by `drop`: a read that started before a delete is not kept. */
  generation: number;
  inFlight: Map<number, { readId: number; result: Promise<StoredPage> }>;
}


/**
 * Recent store pages per session, so subscribers catching up over the same range (a burst that
 * overflowed every subscriber, many clients resuming at once) share one read and one encoding.
 *
 * A cached page may serve a subscriber only if nothing committed after the read can be missing from
 * that subscriber's live queue: a full page is a closed range (the subscriber reads on after it
 * anyway), a short one must come from a read that started after the caller's live listener was armed
 * (`freshAfter`, from `mark()` at arming). Reads in flight are joined on the same terms.
 */
export class PageCache {
  private reads = 0;
  private held = 0;
  /** Insertion order is recency: the first session is the one evicted from. */
  private readonly sessions = new Map<string, SessionPages>();
  private readonly maxBytes: number;
  private readonly perSession: number;

  constructor(
    private readonly store: Store,
    opts: PageCacheOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    this.perSession = opts.perSession ?? 4;
  }

  /** Reads numbered above the value returned now start after this call. */
  mark(): number {
    return this.reads;
  }

  /** Bytes held now (diagnostics, tests). */
  get heldBytes(): number {
    return this.held;
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

  /** Rows after `afterSeq`, at most `limit`, from a usable cached page, a read in flight, or the store. */
  async read(sessionId: string, afterSeq: number, limit: number, freshAfter: number): Promise<PageSlice> {
    const s = this.sessions.get(sessionId);
    if (s) {
      for (const page of s.pages) {
        if (page.afterSeq <= afterSeq && page.lastSeq > afterSeq && (page.full || page.readId > freshAfter)) {
          this.touch(sessionId, s);
          return { page, start: page.indexAfter(afterSeq), more: page.full, shared: true };
        }
      }
      const flight = s.inFlight.get(afterSeq);
      if (flight && flight.readId > freshAfter) {
        const page = await flight.result;
        return { page, start: 0, more: page.full, shared: true };
      }
    }
    const readId = ++this.reads;
    const generation = s?.generation;
    const result = this.store
      .readEventsRaw(sessionId, afterSeq, limit)
      .then((rows) => new StoredPage(sessionId, afterSeq, rows, rows.length >= limit, readId));
    s?.inFlight.set(afterSeq, { readId, result });
    try {
      const page = await result;
      if (s && s.generation === generation) this.keep(s, sessionId, page);
      return { page, start: 0, more: page.full, shared: false };
    } finally {
      if (s?.inFlight.get(afterSeq)?.result === result) s.inFlight.delete(afterSeq);
    }
  }

  private keep(s: SessionPages, sessionId: string, page: StoredPage): void {
    if (s.users <= 0 || page.rows.length === 0 || this.sessions.get(sessionId) !== s) return;
    const bytes = page.bytes;
    if (bytes > this.maxBytes / 4) return;
    s.pages.push(page);
    this.held += bytes;
    if (s.pages.length > this.perSession) this.held -= (s.pages.shift() as StoredPage).bytes;
    this.touch(sessionId, s);
    for (const [id, other] of this.sessions) {
      if (this.held <= this.maxBytes) break;
      while (other.pages.length > 0 && this.held > this.maxBytes) this.held -= (other.pages.shift() as StoredPage).bytes;
      if (other.users <= 0) this.sessions.delete(id);
    }
  }

  private entry(sessionId: string): SessionPages {
    let s = this.sessions.get(sessionId);
    if (!s) this.sessions.set(sessionId, (s = { users: 0, pages: [], generation: 0, inFlight: new Map() }));
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
