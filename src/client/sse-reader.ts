import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One dispatched server-sent event. */
export interface SseMessage {
  /** The `event:` field, or `message` when none was given. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (it persists across events, as the spec says). */
  id: string;
}

/**
 * Reads one `text/event-stream` connection through `eventsource-parser` (the maintained WHATWG parser):
 * feeds it decoded text and hands back the events each chunk completed. Bytes are decoded as a stream, so
 * a chunk may end inside a multi-byte character. Use one reader per connection: what a cut connection
 * left undispatched is dropped, and a resuming client gets it again.
 */
export class SseReader {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private completed: SseMessage[] = [];
  private retryMs: number | undefined;
  private lastId = '';

  constructor() {
    this.parser = createParser({
      onEvent: (message) => {
        if (message.id !== undefined) this.lastId = message.id;
        this.completed.push({ event: message.event ?? 'message', data: message.data, id: this.lastId });
      },
      onRetry: (ms) => {
        this.retryMs = ms;
      },
    });
  }

  /** The last valid `retry:` value in milliseconds, if the server sent one. */
  get retry(): number | undefined {
    return this.retryMs;
  }

  /** Feeds a chunk (bytes or already-decoded text) and returns the events it completed. */
  push(chunk: Uint8Array | string): SseMessage[] {
    this.parser.feed(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
    const out = this.completed;
    this.completed = [];
    return out;
  }
}
