import type { ServerResponse } from 'node:http';
import type { FramedBatch, FramedSink, SinkSubscription } from '../../core/event-log/index.js';
import { PING, RETRY, SSE_FORMAT, SSE_HEADERS, batchBytes, pinger, type Pingable } from './sse.js';

// Shared listeners, `this` being the response: no closures per connection (idle subscribers are many).
const WRITERS = new WeakMap<ServerResponse, NodeSseWriter>();
function onClose(this: ServerResponse): void {
  WRITERS.get(this)?.stop();
}
function onDrain(this: ServerResponse): void {
  WRITERS.get(this)?.drained();
}

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

/**
 * Streams a push subscription as SSE straight onto Node's response, skipping the web-stream layers
 * between Hono and the socket (they cost about half of the CPU per delivery, and ~3 KB per idle
 * subscriber). Make the subscription held (`paused`) with this writer as its sink, then `start(sub)`.
 * A batch the socket does not take at once holds the subscription until 'drain', so a slow client falls
 * behind into store catch-up instead of growing a buffer here.
 */
export class NodeSseWriter implements FramedSink, Pingable {
  private sub: SinkSubscription | undefined;
  private ended = false;
  /** Called once when the stream ends (a metrics untrack, say). A field, not an option: no closure per stream. */
  onEnded: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly pingMs: number,
  ) {}

  start(sub: SinkSubscription): void {
    this.sub = sub;
    const res = this.res;
    res.writeHead(200, SSE_HEADERS);
    res.write(RETRY);
    flattenHeader(res);
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
    return res.write(batchBytes(batch)) || res.writableLength < AHEAD_BYTES;
  }

  /** A store failure mid-stream ends the stream like any other end: the client resumes by seq. */
  onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    pinger(this.pingMs).remove(this);
    this.onEnded?.();
    const res = this.res;
    if (!this.sub) return;
    res.off('close', onClose);
    res.off('drain', onDrain);
    WRITERS.delete(res);
    if (!res.writableEnded) res.end();
  }

  ping(): void {
    if (!this.res.writableEnded) this.res.write(PING);
  }

  drained(): void {
    this.sub?.resume();
  }

  stop(): void {
    this.sub?.close();
  }
}
