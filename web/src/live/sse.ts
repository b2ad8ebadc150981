import { createParser } from 'eventsource-parser';
import type { Api } from '../api/client.js';
import type { WireEvent } from '../api/types.js';
import type { LiveFeed, SessionFeedOptions } from './feed.js';
import { isWireEvent } from './wire.js';

const BACKOFF_MS = [250, 500, 1000, 2000, 4000];

/**
 * The fallback feed when the hub is refused: SSE over fetch (EventSource cannot send the bearer token).
 * It follows sessions only; lists poll. Each network chunk's events are handed
 * over as one batch, so a 10,000-event replay folds in a few renders, not 10,000.
 */
export class SseFeed implements LiveFeed {
  readonly transport = 'sse' as const;
  constructor(private readonly api: Api) {}

  session(id: string, opts: SessionFeedOptions): () => void {
    let closed = false;
    let controller: AbortController | undefined;
    let attempt = 0;
    const run = async (): Promise<void> => {
      while (!closed) {
        controller = new AbortController();
        opts.onState(attempt === 0 ? 'connecting' : 'reconnecting');
        try {
          const res = await this.api.raw(`/api/sessions/${encodeURIComponent(id)}/events?since=${opts.from()}`, {
            signal: controller.signal,
            headers: { accept: 'text/event-stream' },
          });
          if (res.status === 404 || res.status === 401) {
            opts.onState('closed');
            return;
          }
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          opts.onState('live');
          attempt = 0;
          await pump(res.body, opts);
        } catch {
          if (closed) return;
        }
        if (closed) return;
        // The stream ended or failed: resume from where the transcript is, after a short backoff.
        opts.onState('reconnecting');
        const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? 4000;
        attempt++;
        await new Promise((r) => setTimeout(r, wait));
      }
    };
    void run();
    return () => {
      closed = true;
      controller?.abort();
      opts.onState('closed');
    };
  }
}

async function pump(body: ReadableStream<Uint8Array>, opts: SessionFeedOptions): Promise<void> {
  const batch: WireEvent[] = [];
  const parser = createParser({
    onEvent: (m) => {
      try {
        const value: unknown = JSON.parse(m.data);
        if (isWireEvent(value)) batch.push(value);
      } catch {
        // A frame that is not JSON is not an event: skip it.
      }
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.feed(decoder.decode(value, { stream: true }));
    if (batch.length) opts.onEvents(batch.splice(0));
  }
}
