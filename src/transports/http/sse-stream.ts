import type { FramedBatch, FramedSink, SinkSubscription } from '../../core/event-log/index.js';
import { PING, RETRY, SSE_FORMAT, SSE_HEADERS, batchBytes, pinger, type Pingable } from './sse.js';

/**
 * Streams a push subscription as SSE through a web `ReadableStream` (where there is no Node response to
 * write to: in-memory `app.request`, tests). Make the subscription held (`paused`) with this writer as
 * its sink, then `start(sub)`. The stream's `pull` resumes the subscription and each batch is taken only
 * while the stream wants more, so a slow reader makes the subscription fall behind (and catch up from
 * the store) instead of growing a buffer here.
 */
export class SseStream implements FramedSink, Pingable {
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private sub: SinkSubscription | undefined;
  private ended = false;
  /** Called once when the stream ends (a metrics untrack, say). */
  onEnded: (() => void) | undefined;

  constructor(private readonly pingMs: number) {}

  start(sub: SinkSubscription): Response {
    this.sub = sub;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
          controller.enqueue(RETRY);
          if (this.ended) controller.close();
          else pinger(this.pingMs).add(this);
        },
        pull: () => this.sub?.resume(),
        cancel: () => this.sub?.close(),
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  }

  /** Catch-up pages come framed as SSE (built by the store where it can). A getter: no field per stream. */
  get frameFormat(): typeof SSE_FORMAT {
    return SSE_FORMAT;
  }

  onBatch(batch: FramedBatch): boolean {
    const controller = this.controller;
    if (!controller || this.ended) return false;
    controller.enqueue(batchBytes(batch));
    return (controller.desiredSize ?? 0) > 0;
  }

  onEnd(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    pinger(this.pingMs).remove(this);
    this.onEnded?.();
    try {
      if (err !== undefined) this.controller?.error(err);
      else this.controller?.close();
    } catch {
      // Already closed or cancelled by the reader.
    }
  }

  ping(): void {
    try {
      this.controller?.enqueue(PING);
    } catch {
      this.sub?.close();
    }
  }
}
