import { toWire, type StoredEvent } from '../../protocol/events.js';
import type { EventSubscription } from '../../core/event-log/index.js';

const encoder = new TextEncoder();

// Every subscriber of a session receives the same event objects from the bus: serialize each once.
const frames = new WeakMap<StoredEvent, string>();

export function sseFrame(event: StoredEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(toWire(event))}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

/**
 * Streams a subscription as SSE. Pull-based: the next batch is taken from the subscription only when the
 * socket has drained what was written, so a slow client makes its subscription fall behind (and catch
 * up from the store) instead of growing a buffer here.
 */
export function sseResponse(sub: EventSubscription, opts: { pingMs: number }): Response {
  const iterator = sub[Symbol.asyncIterator]();
  let ping: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearInterval(ping);
    sub.close();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode('retry: 1000\n\n'));
        ping = setInterval(() => {
          try {
            controller.enqueue(encoder.encode(': ping\n\n'));
          } catch {
            stop();
          }
        }, opts.pingMs);
        ping.unref();
      },
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) {
          stop();
          controller.close();
          return;
        }
        let text = '';
        for (const event of next.value) text += sseFrame(event);
        controller.enqueue(encoder.encode(text));
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
