import type { FramedBatch, FramedPage } from '../../core/event-log/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import { wireJson } from '../../protocol/wire-json.js';

/**
 * The SSE bytes of a run of live events, built once and handed to every subscriber taking that run: the
 * run framed as one HTTP/1.1 chunk (`<hex length>\r\n<frames>\r\n`), and `body`, a view of the frames
 * inside it. A chunked stream writes `chunk` straight to its socket (one buffer, one write), so the frames
 * are neither copied nor framed again per subscriber.
 */
interface RunBytes {
  last: StoredEvent;
  chunk: Buffer;
  body: Buffer;
}

function frameText(event: StoredEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${wireJson(event)}\n\n`;
}

function buildRun(events: readonly StoredEvent[]): RunBytes {
  let text = '';
  for (const e of events) text += frameText(e);
  const len = Buffer.byteLength(text);
  const hex = len.toString(16);
  const chunk = Buffer.allocUnsafe(hex.length + len + 4);
  let at = chunk.write(hex, 0, 'latin1');
  at += chunk.write('\r\n', at, 'latin1');
  const start = at;
  at += chunk.write(text, at, 'utf8');
  chunk.write('\r\n', at, 'latin1');
  return { last: events[events.length - 1] as StoredEvent, chunk, body: chunk.subarray(start, at) };
}

// Subscribers of a session take the same run of a commit's events (the same objects): build a run once,
// keyed by its first event, and hand the same bytes to each of them.
const runs = new WeakMap<StoredEvent, RunBytes>();

// The run every caught-up subscriber of the last commit is handed (the same array): no lookup for them.
let lastEvents: readonly StoredEvent[] | undefined;
let lastBytes: RunBytes | undefined;

function runBytes(events: readonly StoredEvent[]): RunBytes {
  if (lastEvents === events) return lastBytes as RunBytes;
  const first = events[0] as StoredEvent;
  let run = runs.get(first);
  if (run === undefined || run.last !== events[events.length - 1]) {
    run = buildRun(events);
    runs.set(first, run);
  }
  lastEvents = events;
  lastBytes = run;
  return run;
}

/** One event's SSE frame (the same bytes for every subscriber of it). */
export function sseFrame(event: StoredEvent): Uint8Array {
  return runBytes([event]).body;
}

/** The SSE frames of a run of live events (ascending, non-empty). */
export function eventsBytes(events: readonly StoredEvent[]): Uint8Array {
  return runBytes(events).body;
}

/** The same frames as one HTTP/1.1 chunk, chunk header and trailing CRLF included. */
export function eventsChunk(events: readonly StoredEvent[]): Uint8Array {
  return runBytes(events).chunk;
}

/** Bytes as one HTTP/1.1 chunk (for the few writes not built as chunks: retry, ping). */
export function asChunk(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.byteLength.toString(16)}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1')]);
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
export const PING_CHUNK = asChunk(PING);

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
