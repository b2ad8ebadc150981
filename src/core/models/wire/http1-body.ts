/** Where a body reader hands the body's bytes: `buf[start, end)`, valid only during the call. False: stop reading. */
export type PieceSink = (buf: Buffer, start: number, end: number) => boolean;

/** One response body's framing, fed the socket's reads in order. */
export interface BodyReader {
  /** The body is complete (then the connection may carry the next exchange). */
  done: boolean;
  /** Delimited by the connection's close (no length, not chunked): the close is its end. */
  readonly untilClose: boolean;
  /**
   * Takes `buf[at, n)`, hands the body's bytes to `sink`; returns where the body ended in `buf` (`n` when
   * it did not end in this read) or the framing error.
   */
  read(buf: Buffer, at: number, n: number, sink: PieceSink): number | Error;
}

const framingError = (message: string): Error => Object.assign(new Error(`malformed response body from the model server: ${message}`), { code: 'HPE_INVALID_CHUNK_SIZE' });

/** The reader for a response's framing headers, as RFC 9112 section 6.3 orders them. */
export function readBody(noBody: boolean, transferEncoding: string | undefined, contentLength: string | undefined): BodyReader {
  if (noBody) return new LengthReader(0);
  if (transferEncoding !== undefined) {
    // Chunked must be the last coding; anything else is read until the close.
    return /(?:^|,)\s*chunked\s*$/i.test(transferEncoding) ? new ChunkedReader() : new CloseReader();
  }
  if (contentLength !== undefined) {
    const length = /^\d{1,15}$/.test(contentLength.trim()) ? Number(contentLength.trim()) : NaN;
    return Number.isNaN(length) ? new CloseReader() : new LengthReader(length);
  }
  return new CloseReader();
}

class LengthReader implements BodyReader {
  done: boolean;
  readonly untilClose = false;
  constructor(private left: number) {
    this.done = left === 0;
  }
  read(buf: Buffer, at: number, n: number, sink: PieceSink): number {
    const take = Math.min(this.left, n - at);
    this.left -= take;
    if (take > 0 && !sink(buf, at, at + take)) return at + take;
    if (this.left === 0) this.done = true;
    return at + take;
  }
}

class CloseReader implements BodyReader {
  done = false;
  readonly untilClose = true;
  read(buf: Buffer, at: number, n: number, sink: PieceSink): number {
    if (n > at) sink(buf, at, n);
    return n;
  }
}

const enum S {
  /** Hex digits of a chunk size. */
  Size,
  /** A chunk extension, up to the line's end. */
  Ext,
  /** A chunk's bytes. */
  Data,
  /** The CRLF after a chunk's bytes. */
  DataEnd,
  /** At the start of a trailer line (after the last chunk). */
  TrailerStart,
  /** Inside a trailer line. */
  Trailer,
}

const CR = 0x0d;
const LF = 0x0a;
/** Larger chunk sizes are refused (a hostile size cannot overflow the count). */
const MAX_CHUNK = 2 ** 40;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** `Transfer-Encoding: chunked` (RFC 9112 section 7.1), tolerant of bare LF line ends as llhttp is. */
class ChunkedReader implements BodyReader {
  done = false;
  readonly untilClose = false;
  private state = S.Size;
  private size = 0;
  private digits = 0;

  read(buf: Buffer, at: number, n: number, sink: PieceSink): number | Error {
    let i = at;
    while (i < n) {
      const state = this.state;
      if (state === S.Data) {
        const end = Math.min(n, i + this.size);
        this.size -= end - i;
        if (this.size === 0) {
          this.state = S.DataEnd;
          this.digits = 0;
        }
        if (!sink(buf, i, end)) return end;
        i = end;
        continue;
      }
      const c = buf[i++] as number;
      if (state === S.Size) {
        const v = hexValue(c);
        if (v >= 0) {
          this.size = this.size * 16 + v;
          this.digits++;
          if (this.size > MAX_CHUNK) return framingError('chunk size too large');
        } else if (c === LF || c === CR || c === 0x3b || c === 0x20 || c === 0x09) {
          if (this.digits === 0) return framingError('chunk size missing');
          if (c === LF) this.sizeLine();
          else this.state = S.Ext;
        } else return framingError('invalid chunk size');
      } else if (state === S.Ext) {
        if (c === LF) this.sizeLine();
      } else if (state === S.DataEnd) {
        // CR then LF (or a bare LF) ends the chunk; anything else is a framing error.
        if (c === CR && this.digits === 0) this.digits = 1;
        else if (c === LF) {
          this.state = S.Size;
          this.size = 0;
          this.digits = 0;
        } else return framingError('chunk not followed by CRLF');
      } else if (state === S.TrailerStart) {
        if (c === LF) {
          this.done = true;
          return i;
        }
        if (c !== CR) this.state = S.Trailer;
      } else if (c === LF) this.state = S.TrailerStart;
    }
    return i;
  }

  /** The end of a chunk-size line: the chunk's bytes, or the trailers after the last chunk. */
  private sizeLine(): void {
    this.state = this.size === 0 ? S.TrailerStart : S.Data;
  }
}
