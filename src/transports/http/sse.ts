import type { DataJson, FramedBatch, FramedPage } from '../../core/event-log/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import { liveWireJson } from '../../protocol/wire-json.js';
import { sessionJsonOf } from '../session-json.js';

/**
 * The SSE bytes of a run of live events, built once and handed to every subscriber taking that run: the
 * run framed as one HTTP/1.1 chunk (`<hex length>\r\n<frames>\r\n`), and `body`, a view of the frames
 * inside it (made on first need). A chunked stream writes `chunk` straight to its socket (one buffer, one
 * write), so the frames are neither copied nor framed again per subscriber.
 */
class RunBytes {
  private view: Buffer | undefined;

  constructor(
    readonly first: StoredEvent,
    readonly last: StoredEvent,
    readonly chunk: Buffer,
    private readonly start: number,
  ) {}

  get body(): Buffer {
    return (this.view ??= this.chunk.subarray(this.start, this.chunk.length - 2));
  }
}

/**
 * `dataJson` (parallel to `events`, where the bus carried it) is each payload's text as appended: spliced
 * into its frame rather than serialised again (`liveWireJson`, same bytes). `sessionJson`, when the ring
 * gave it, is the events' session id as JSON (all of one session then).
 */
function buildRun(events: readonly StoredEvent[], dataJson: DataJson | undefined, sessionJson: string | undefined): RunBytes {
  let text = '';
  let sessionId: string | undefined = sessionJson === undefined ? undefined : (events[0] as StoredEvent).session_id;
  let idJson = sessionJson ?? '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as StoredEvent;
    if (e.session_id !== sessionId) idJson = sessionJsonOf((sessionId = e.session_id));
    text += `id: ${e.seq}\nevent: ${e.type}\ndata: ${liveWireJson(e, dataJson?.[i], idJson)}\n\n`;
  }
  return chunkOf(events[0] as StoredEvent, events[events.length - 1] as StoredEvent, text);
}

/**
 * Live runs are written as HTTP/1.1 chunks into shared slabs, as node's Buffer pool does for small
 * strings, but with the chunk header put in place before the frames: the text is flattened and encoded
 * once (no `Buffer.byteLength` pass, no header-plus-text string copied again). A slab lives while any
 * run cut from it does (the recent runs below, a slow socket's queue).
 */
const SLAB_BYTES = 32 * 1024;
/** A run whose text could take more than this goes into a buffer of its own. */
const SLAB_RUN_MAX = SLAB_BYTES / 4;
/** Room before the frames for the chunk header: up to 8 hex digits and CRLF. */
const HEAD_ROOM = 10;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabAt = 0;

function chunkOf(first: StoredEvent, last: StoredEvent, text: string): RunBytes {
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  const most = HEAD_ROOM + text.length * 3 + 2;
  if (most > SLAB_RUN_MAX) {
    const hex = Buffer.byteLength(text).toString(16);
    return new RunBytes(first, last, Buffer.from(`${hex}\r\n${text}\r\n`), hex.length + 2);
  }
  if (slabAt + most > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabAt = 0;
  }
  const buf = slab;
  const body = slabAt + HEAD_ROOM;
  const n = buf.write(text, body, 'utf8');
  buf[body + n] = 0x0d;
  buf[body + n + 1] = 0x0a;
  buf[body - 2] = 0x0d;
  buf[body - 1] = 0x0a;
  let start = body - 2;
  let left = n;
  do {
    buf[--start] = HEX[left & 15] as number;
    left >>>= 4;
  } while (left > 0);
  const end = body + n + 2;
  // 8-byte aligned, as node's pool keeps its slices.
  slabAt = (end + 7) & ~7;
  return new RunBytes(first, last, buf.subarray(start, end), body - start);
}

/**
 * Runs built lately, found by their first and last event: subscribers of a session at the same cursor
 * take the same events (the same objects) even when not the same array (one stepping from the ring).
 * A few slots, not a WeakMap keyed by event: a WeakMap entry per run costs more (ephemeron upkeep in
 * every GC) than building the bytes again, and most runs have one subscriber.
 */
const RECENT = 16;
const recent: Array<RunBytes | undefined> = new Array<RunBytes | undefined>(RECENT).fill(undefined);
let recentNext = 0;

// The run every caught-up subscriber of the last commit is handed (the same array): no lookup for them.
let lastEvents: readonly StoredEvent[] | undefined;
let lastBytes: RunBytes | undefined;

function runBytes(events: readonly StoredEvent[], dataJson?: DataJson, sessionJson?: string): RunBytes {
  if (lastEvents === events && lastBytes !== undefined) return lastBytes;
  const first = events[0] as StoredEvent;
  const last = events[events.length - 1] as StoredEvent;
  let run: RunBytes | undefined;
  for (const r of recent) {
    if (r !== undefined && r.first === first && r.last === last) {
      run = r;
      break;
    }
  }
  if (run === undefined) {
    run = buildRun(events, dataJson, sessionJson);
    recent[recentNext] = run;
    recentNext = (recentNext + 1) % RECENT;
  }
  lastEvents = events;
  lastBytes = run;
  return run;
}

/** One event's SSE frame (the same bytes for every subscriber of it). */
export function sseFrame(event: StoredEvent): Uint8Array {
  return runBytes([event]).body;
}

/**
 * The SSE frames of a run of live events (ascending, non-empty); `dataJson` and `sessionJson` are the
 * live batch's, when it has them (`LiveBatch`).
 */
export function eventsBytes(events: readonly StoredEvent[], dataJson?: DataJson, sessionJson?: string): Uint8Array {
  return runBytes(events, dataJson, sessionJson).body;
}

/** The same frames as one HTTP/1.1 chunk, chunk header and trailing CRLF included. */
export function eventsChunk(events: readonly StoredEvent[], dataJson?: DataJson, sessionJson?: string): Uint8Array {
  return runBytes(events, dataJson, sessionJson).chunk;
}

/** Fixed bytes as one HTTP/1.1 chunk (the ping, written to the socket like live runs). */
function asChunk(bytes: Uint8Array): Buffer {
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
  return batch.from === 'live' ? eventsBytes(batch.events, batch.dataJson, batch.sessionJson) : pageBytes(batch.page, batch.start, batch.end);
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
