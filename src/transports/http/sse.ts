import type { EventBatch, StoredPage } from '../../core/event-log/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import { rawWireJsonOf, wireJson } from '../../protocol/wire-json.js';

// Every subscriber of a session receives the same event objects from the bus: serialize and encode each
// once, and hand every subscriber the same bytes.
const frames = new WeakMap<StoredEvent, Buffer>();

export function sseFrame(event: StoredEvent): Buffer {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = Buffer.from(`id: ${event.seq}\nevent: ${event.type}\ndata: ${wireJson(event)}\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

// Subscribers that keep up take the same run of a commit's events (the same objects): concatenate a run
// once, keyed by its first event, and hand the same bytes to each of them.
const runs = new WeakMap<StoredEvent, { last: StoredEvent; bytes: Buffer }>();

// The run every caught-up subscriber of the last commit is handed (the same array): no lookup for them.
let lastRun: { events: readonly StoredEvent[]; bytes: Uint8Array } | undefined;

export function eventsBytes(events: readonly StoredEvent[]): Uint8Array {
  if (lastRun?.events === events) return lastRun.bytes;
  const first = events[0] as StoredEvent;
  if (events.length === 1) return sseFrame(first);
  const last = events[events.length - 1] as StoredEvent;
  const run = runs.get(first);
  if (run?.last === last) return run.bytes;
  const bytes = Buffer.concat(events.map(sseFrame));
  runs.set(first, { last, bytes });
  lastRun = { events, bytes };
  return bytes;
}

/** A store page's frames, encoded once for every subscriber that catches up over it. */
interface PageFrames {
  bytes: Buffer;
  /** Byte offset of each row's frame, and the end (rows.length + 1 entries); found on first need. */
  offsets: Uint32Array | undefined;
}
const pages = new WeakMap<StoredPage, PageFrames>();

/**
 * The frames of `page.rows[start..end)`, built from the stored JSON text (no parse, no object, no
 * stringify per row) and byte-identical to `sseFrame` of the parsed events. A subscriber starting inside
 * the page gets a view of the same bytes.
 */
export function pageBytes(page: StoredPage, start: number, end: number): Uint8Array {
  let encoded = pages.get(page);
  if (!encoded) {
    const sessionJson = JSON.stringify(page.sessionId);
    let text = '';
    for (const row of page.rows) text += `id: ${row.seq}\nevent: ${row.type}\ndata: ${rawWireJsonOf(row, sessionJson)}\n\n`;
    encoded = { bytes: Buffer.from(text), offsets: undefined };
    pages.set(page, encoded);
  }
  if (start === 0 && end === page.rows.length) return encoded.bytes;
  const offsets = (encoded.offsets ??= frameOffsets(encoded.bytes, page.rows.length));
  return encoded.bytes.subarray(offsets[start], offsets[end]);
}

/** Frame boundaries: JSON text never holds a raw newline, so "\n\n" only ends a frame. */
function frameOffsets(bytes: Buffer, n: number): Uint32Array {
  const offsets = new Uint32Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = at;
    at = bytes.indexOf('\n\n', at) + 2;
  }
  offsets[n] = at;
  return offsets;
}

/** The SSE bytes of a batch: shared frames for live events, a shared page's bytes for stored ones. */
export function batchBytes(batch: EventBatch): Uint8Array {
  return batch.from === 'live' ? eventsBytes(batch.events) : pageBytes(batch.page, batch.start, batch.end);
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

export const RETRY = Buffer.from('retry: 1000\n\n');
export const PING = Buffer.from(': ping\n\n');

/** Something a `Pinger` pings: an open stream. */
export interface Pingable {
  ping(): void;
}

/**
 * One timer per interval for all open streams, not one per stream: thousands of idle subscribers each
 * holding a timer cost memory and wake-ups for nothing.
 */
export class Pinger {
  private readonly streams = new Set<Pingable>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(stream: Pingable): void {
    this.streams.add(stream);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const s of this.streams) s.ping();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  remove(stream: Pingable): void {
    if (!this.streams.delete(stream)) return;
    if (this.streams.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const pingers = new Map<number, Pinger>();
export function pinger(intervalMs: number): Pinger {
  let p = pingers.get(intervalMs);
  if (!p) pingers.set(intervalMs, (p = new Pinger(intervalMs)));
  return p;
}
