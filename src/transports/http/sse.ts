import type { FramedBatch, FramedPage } from '../../core/event-log/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import { wireJson } from '../../protocol/wire-json.js';

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

/**
 * What every SSE frame of a stored event is (the same text as `sseFrame`): the store builds catch-up
 * pages in this format itself where it can (SQLite, in one query), or the event log frames them in JS.
 */
export const SSE_FORMAT: FrameFormat = [{ text: 'id: ' }, 'seq', { text: '\nevent: ' }, 'type', { text: '\ndata: ' }, 'wire', { text: '\n\n' }];

/** Where each frame of a framed page starts (and the end), found on first need. */
const offsets = new WeakMap<FramedPage, Uint32Array>();

/**
 * The frames of rows `start..end` of a page read in `SSE_FORMAT`: the page's own bytes, or a view of
 * them for a subscriber starting inside it (or ending at a `session_deleted`).
 */
export function pageBytes(page: FramedPage, start: number, end: number): Uint8Array {
  const bytes = page.framed.bytes;
  if (start === 0 && end === page.length) return bytes;
  let at = offsets.get(page);
  if (!at) offsets.set(page, (at = frameOffsets(bytes, page.length)));
  return bytes.subarray(at[start], at[end]);
}

/** Frame boundaries: JSON text never holds a raw newline, so "\n\n" only ends a frame. */
function frameOffsets(bytes: Uint8Array, n: number): Uint32Array {
  const at = new Uint32Array(n + 1);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    at[i] = pos;
    pos = buf.indexOf('\n\n', pos) + 2;
  }
  at[n] = pos;
  return at;
}

/** The SSE bytes of a batch: shared frames for live events, a shared page's bytes for stored ones. */
export function batchBytes(batch: FramedBatch): Uint8Array {
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
