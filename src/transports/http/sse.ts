import { toWire, type StoredEvent } from '../../protocol/events.js';
import type { EventSubscription } from '../../core/event-log/index.js';

// Every subscriber of a session receives the same event objects from the bus: serialize and encode each
// once, and hand every subscriber the same bytes.
const frames = new WeakMap<StoredEvent, Buffer>();

export function sseFrame(event: StoredEvent): Buffer {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = Buffer.from(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(toWire(event))}\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

export function batchBytes(batch: StoredEvent[]): Uint8Array {
  if (batch.length === 1) return sseFrame(batch[0]!);
  return Buffer.concat(batch.map(sseFrame));
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

export const RETRY = Buffer.from('retry: 1000\n\n');
export const PING = Buffer.from(': ping\n\n');

/**
 * One timer per interval for all open streams, not one per stream: thousands of idle subscribers each
 * holding a timer cost memory and wake-ups for nothing.
 */
export class Pinger {
  private readonly streams = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(ping: () => void): () => void {
    this.streams.add(ping);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const send of this.streams) send();
      }, this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.streams.delete(ping);
      if (this.streams.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }
}

const pingers = new Map<number, Pinger>();
export function pinger(intervalMs: number): Pinger {
  let p = pingers.get(intervalMs);
  if (!p) pingers.set(intervalMs, (p = new Pinger(intervalMs)));
  return p;
}

/**
 * Streams a subscription as SSE. Pull-based: the next batch is taken from the subscription only when the
 * socket has drained what was written, so a slow client makes its subscription fall behind (and catch
 * up from the store) instead of growing a buffer here.
 */
export function sseResponse(sub: EventSubscription, opts: { pingMs: number }): Response {
  const iterator = sub[Symbol.asyncIterator]();
  let stopPing: (() => void) | undefined;
  const stop = (): void => {
    stopPing?.();
    sub.close();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(RETRY);
        stopPing = pinger(opts.pingMs).add(() => {
          try {
            controller.enqueue(PING);
          } catch {
            stop();
          }
        });
      },
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) {
          stop();
          controller.close();
          return;
        }
        controller.enqueue(batchBytes(next.value));
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
