/**
 * An incremental parser for `text/event-stream`, following the WHATWG HTML "server-sent events"
 * interpretation rules: lines end in `\n`, `\r\n` or `\r`; `data:` lines accumulate (joined by `\n`);
 * lines starting with `:` are comments; one leading space after the colon is dropped; unknown fields are
 * ignored; a blank line dispatches. Chunks may split the stream anywhere, including inside a `\r\n` pair
 * or a multi-byte UTF-8 character.
 *
 * Use one parser per connection. When a connection ends, whatever it has not dispatched is dropped, as the
 * spec says: a stream cut mid-event may have cut the data too, and a resuming client gets it again.
 */

export interface SseMessage {
  /** The `event:` field, or `message` when none was given. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (it persists across messages, as the spec says). */
  id: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** A chunk ended in `\r`: a `\n` at the start of the next chunk belongs to the same line ending. */
  private pendingCR = false;
  private sawFirstChunk = false;
  private data: string[] = [];
  private hasData = false;
  private eventType = '';
  private lastId = '';
  private retryMs: number | undefined;

  /** The last valid `retry:` value in milliseconds, if the server sent one. */
  get retry(): number | undefined {
    return this.retryMs;
  }

  /** The last `id:` value seen. */
  get lastEventId(): string {
    return this.lastId;
  }

  /** Feeds a chunk (bytes or already-decoded text) and returns the messages it completed. */
  push(chunk: Uint8Array | string): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.sawFirstChunk && text.length > 0) {
      this.sawFirstChunk = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer.charCodeAt(i);
      if (ch !== 0x0a && ch !== 0x0d) continue;
      this.processLine(this.buffer.slice(start, i), out);
      if (ch === 0x0d) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private processLine(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(out: SseMessage[]): void {
    if (this.hasData) {
      out.push({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId });
    }
    this.resetEvent();
  }

  private resetEvent(): void {
    this.data = [];
    this.hasData = false;
    this.eventType = '';
  }
}
