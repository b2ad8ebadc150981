import type { FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export interface Line {
  /** At most `maxChars` characters of the line, without its `\n` (or `\r\n`). */
  text: string;
  /** The line's full length in characters; larger than `text.length` when it was cut. */
  length: number;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Yields the lines of an open file (from its current position), keeping at most `maxChars` characters of
 * each, so memory stays bounded by the chunk size and the cap even for a 400 MB file with no newline
 * (`readline` buffers the whole line before handing it over). Each chunk is one asynchronous read, so the
 * event loop runs between chunks. Line splitting matches `readline`: `\n` or `\r\n` ends a line, and text
 * after the last newline is a last line.
 */
export async function* readLines(handle: FileHandle, maxChars: number): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let kept = '';
  let length = 0;
  let endsWithCr = false;

  const append = (piece: string): void => {
    if (piece === '') return;
    length += piece.length;
    endsWithCr = piece.endsWith('\r');
    if (kept.length < maxChars) kept += piece.slice(0, maxChars - kept.length);
  };
  const finish = (): Line => {
    let text = kept;
    let len = length;
    if (endsWithCr) {
      len -= 1;
      if (text.length > len) text = text.slice(0, len);
    }
    kept = '';
    length = 0;
    endsWithCr = false;
    return { text, length: len };
  };

  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
    const text = bytesRead === 0 ? decoder.end() : decoder.write(buffer.subarray(0, bytesRead));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      append(text.slice(start, nl));
      yield finish();
      start = nl + 1;
    }
    append(text.slice(start));
    if (bytesRead === 0) break;
  }
  if (length > 0) yield finish();
}
