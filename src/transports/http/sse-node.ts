import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FramedBatch, FramedSink, SinkSubscription } from '../../core/event-log/index.js';
import { writeSlices, type SliceJob, type WriteSlices } from '../write-slices.js';
import { PING, PING_CHUNK, RETRY, SSE_FORMAT, SSE_HEADERS, batchBytes, eventsBytes, eventsChunk, pinger, type Pingable } from './sse.js';

// Shared listeners, `this` being the response: no closures per connection (idle subscribers are many).
const WRITERS = new WeakMap<ServerResponse, NodeSseWriter>();
function onClose(this: ServerResponse): void {
  WRITERS.get(this)?.stop();
}
function onDrain(this: ServerResponse): void {
  WRITERS.get(this)?.drained();
}
/** The socket's own 'drain', for a writer held by a direct write (see `NodeSseWriter.onBatch`). */
function onSocketDrain(this: Socket): void {
  const res = (this as unknown as { _httpMessage?: ServerResponse })._httpMessage;
  if (res) WRITERS.get(res)?.drained();
}

/**
 * The writer whose write slice is running (`runSlice`): what its subscription hands it meanwhile is
 * written in that slice, not queued for another. One module variable, not a field per stream.
 */
let inSlice: NodeSseWriter | undefined;

/** Bytes a stream may have waiting in its socket buffer before it holds the subscription (per stream). */
const AHEAD_BYTES = 256 * 1024;

/**
 * node:http keeps the response head it sent (`_header`) for the response's life, as the rope of ~25
 * strings it was concatenated from (~1 KB per open stream). Reading a character flattens a rope in
 * place (V8 replaces its halves with one flat string), which frees the pieces. Nothing is changed.
 */
function flattenHeader(res: ServerResponse): void {
  const head = (res as unknown as { _header?: unknown })._header;
  if (typeof head === 'string') head.charCodeAt(0);
}

/** What node:http keeps on a response that says whether it owns its socket and how it frames the body. */
interface ResponseInternals {
  chunkedEncoding?: boolean;
  outputSize?: number;
}

/**
 * The response's socket, when bytes written to it land in the body exactly as `res.write` would put
 * them: the socket is the response's own (`_httpMessage`, not a pipelined request's), the head is sent
 * and nothing waits in the response's own buffer. Found once, right after the head and `retry` went
 * out; a response keeps its socket for its life.
 */
function ownSocket(res: ServerResponse): Socket | undefined {
  const socket = res.socket;
  const internals = res as unknown as ResponseInternals;
  if (!socket || (socket as unknown as { _httpMessage?: unknown })._httpMessage !== res || !res.headersSent) return undefined;
  if (internals.outputSize !== 0 || typeof internals.chunkedEncoding !== 'boolean') return undefined;
  return socket;
}

/**
 * Streams a push subscription as SSE straight onto Node's response, skipping the web-stream layers
 * between Hono and the socket (they cost about half of the CPU per delivery, and ~3 KB per idle
 * subscriber). Make the subscription held (`paused`) with this writer as its sink, then `start(sub)`.
 * A batch the socket does not take at once holds the subscription until 'drain', so a slow client falls
 * behind into store catch-up instead of growing a buffer here.
 *
 * Live runs go straight to the socket (`direct`): `res.write` costs, per subscriber per commit, the chunk
 * header formatted again, a cork and a `nextTick` to uncork, and a four-buffer `writev`; the run's bytes
 * built once as a whole HTTP/1.1 chunk (`eventsChunk`, or the bare frames on an unchunked HTTP/1.0
 * response) are one `write` of one shared buffer. The bytes on the wire are the same. Catch-up pages
 * (one write per page, not per commit) and the end of the response still go through `res`.
 *
 * A live write past the turn's write budget (`WriteSlices`: one commit fanned out to many streams) is
 * held for a later turn and holds the subscription meanwhile, as a full socket does: what comes next
 * waits in the ring (or overflows into store catch-up), so order and the memory bound are kept.
 */
export class NodeSseWriter implements FramedSink, Pingable, SliceJob {
  private sub: SinkSubscription | undefined;
  private ended = false;
  /** The socket live runs are written to, when the response owns it (see `ownSocket`). */
  private direct: Socket | undefined;
  /** A live run's bytes waiting for a write slice (the subscription is held until they are written). */
  private held: Uint8Array | undefined;
  /** Called once when the stream ends (a metrics untrack, say). A field, not an option: no closure per stream. */
  onEnded: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly pingMs: number,
    private readonly slices: WriteSlices = writeSlices,
  ) {}

  start(sub: SinkSubscription): void {
    this.sub = sub;
    const res = this.res;
    res.writeHead(200, SSE_HEADERS);
    res.write(RETRY);
    flattenHeader(res);
    this.direct = ownSocket(res);
    if (this.ended) {
      res.end();
      return;
    }
    WRITERS.set(res, this);
    res.on('close', onClose);
    res.on('drain', onDrain);
    pinger(this.pingMs).add(this);
    // The client may have gone while the subscription was being set up: 'close' has fired already.
    if (res.destroyed || !res.socket || res.socket.destroyed) return this.stop();
    sub.resume();
  }

  /** Catch-up pages come framed as SSE (built by the store where it can). A getter: no field per stream. */
  get frameFormat(): typeof SSE_FORMAT {
    return SSE_FORMAT;
  }

  onBatch(batch: FramedBatch): boolean {
    const res = this.res;
    // Gone: 'close' ends the subscription; take nothing more meanwhile.
    if (res.destroyed) return false;
    // Past the socket's high-water mark, keep taking batches until `AHEAD_BYTES` wait in its buffer: a
    // catch-up page is then built while the previous ones drain, instead of after each 'drain'.
    const socket = this.direct;
    // Not expected (a held run holds the subscription), but the stream's order must not hang on that.
    if (this.held !== undefined && socket !== undefined) {
      socket.write(this.held);
      this.held = undefined;
    }
    if (socket === undefined || batch.from !== 'live') return res.write(batchBytes(batch)) || res.writableLength < AHEAD_BYTES;
    const bytes =
      (res as unknown as ResponseInternals).chunkedEncoding === true
        ? eventsChunk(batch.events, batch.dataJson, batch.sessionJson)
        : eventsBytes(batch.events, batch.dataJson, batch.sessionJson);
    if (inSlice !== this && !this.slices.admit()) {
      this.held = bytes;
      this.slices.defer(this);
      return false;
    }
    return this.writeLive(socket, bytes);
  }

  private writeLive(socket: Socket, bytes: Uint8Array): boolean {
    if (socket.write(bytes) || socket.writableLength < AHEAD_BYTES) return true;
    // res's 'drain' fires only after a `res.write` said false: wait for the socket's own. Once listening
    // (a page's res 'drain' may have resumed the subscription before this one fired).
    socket.off('drain', onSocketDrain);
    socket.once('drain', onSocketDrain);
    return false;
  }

  /**
   * The held run's slice: written, then the subscription goes on (or waits for 'drain' like any write).
   * It goes on at once, inside this slice: what the ring took for this stream while the run was held
   * (later commits, when one commit's fan-out outlasts the next) goes out in the same write, corked with
   * the held run. Queued for a slice of its own instead, it would wait for every stream of the queue
   * once more: at 1,000 streams that doubled the wait of a commit landing while a fan-out ran.
   */
  runSlice(): void {
    const bytes = this.held;
    this.held = undefined;
    const socket = this.direct;
    if (bytes === undefined || socket === undefined || this.ended || this.res.destroyed) return;
    socket.cork();
    try {
      if (this.writeLive(socket, bytes)) {
        inSlice = this;
        this.sub?.resume(true);
      }
    } finally {
      inSlice = undefined;
      socket.uncork();
    }
  }

  /** A store failure mid-stream ends the stream like any other end: the client resumes by seq. */
  onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    // A held run goes out before the end (a session's last run ends with `session_deleted`).
    const held = this.held;
    this.held = undefined;
    if (held !== undefined && this.direct && !this.res.destroyed) this.direct.write(held);
    pinger(this.pingMs).remove(this);
    this.onEnded?.();
    const res = this.res;
    if (!this.sub) return;
    res.off('close', onClose);
    res.off('drain', onDrain);
    this.direct?.off('drain', onSocketDrain);
    WRITERS.delete(res);
    if (!res.writableEnded) res.end();
  }

  ping(): void {
    if (this.res.writableEnded) return;
    const chunked = (this.res as unknown as ResponseInternals).chunkedEncoding === true;
    if (this.direct && !this.direct.destroyed) this.direct.write(chunked ? PING_CHUNK : PING);
    else this.res.write(PING);
  }

  drained(): void {
    // A held run goes out first: its slice resumes the subscription.
    if (this.held !== undefined) return;
    this.sub?.resume();
  }

  stop(): void {
    this.sub?.close();
  }
}
