import { describe, expect, it } from 'vitest';
import { readBody, type BodyReader } from './http1-body.js';

/** Feeds `bytes` in reads cut at `cuts`; returns the body text, where the body ended in the last read, and the error if any. */
function feed(reader: BodyReader, bytes: Buffer, cuts: number[]): { body: string; end: number; error?: string } {
  const pieces: Buffer[] = [];
  let end = -1;
  const bounds = [0, ...cuts, bytes.length];
  for (let k = 0; k + 1 < bounds.length && !reader.done; k++) {
    // Each read in its own buffer, as a socket read is (the reader must not keep a view of it).
    const read = Buffer.from(bytes.subarray(bounds[k], bounds[k + 1]));
    const used = reader.read(read, 0, read.length, (buf, start, stop) => {
      pieces.push(Buffer.from(buf.subarray(start, stop)));
      return true;
    });
    if (used instanceof Error) return { body: Buffer.concat(pieces).toString(), end, error: used.message };
    end = (bounds[k] as number) + used;
  }
  return { body: Buffer.concat(pieces).toString(), end };
}

const PIECES = ['data: ', '{"x":"héllo ✓"}\n\n', '1234'];
const size = (piece: string) => Buffer.byteLength(piece).toString(16);
const CHUNKED = Buffer.from(
  `${size(PIECES[0]!)}\r\n${PIECES[0]}\r\n${size(PIECES[1]!).toUpperCase()};ext=1\r\n${PIECES[1]}\r\n${size(PIECES[2]!)}\r\n${PIECES[2]}\r\n0\r\nx-trailer: 1\r\n\r\nNEXT`,
);
const CHUNKED_BODY = PIECES.join('');

describe('readBody', () => {
  it('reads a chunked body with extensions and trailers, cut at every byte, up to its end', () => {
    for (let cut = 0; cut <= CHUNKED.length; cut++) {
      const out = feed(readBody(false, 'chunked', undefined), CHUNKED, [cut]);
      expect(out).toEqual({ body: CHUNKED_BODY, end: CHUNKED.length - 4 });
    }
  });

  it('reads a chunked body fed one byte at a time, with bare LF line ends', () => {
    const bytes = Buffer.from('3\nabc\n0\n\n');
    const out = feed(readBody(false, 'gzip, chunked', undefined), bytes, [...bytes.keys()].slice(1));
    expect(out).toEqual({ body: 'abc', end: bytes.length });
  });

  it('refuses a chunk size that is not hex, missing, or too large, and a chunk without its CRLF', () => {
    for (const text of ['zz\r\n', '\r\nabc', 'fffffffffffffff\r\n', '3\r\nabcX\r\n']) {
      expect(feed(readBody(false, 'chunked', undefined), Buffer.from(text), []).error).toMatch(/malformed response body/);
    }
  });

  it('reads a content-length body and stops at its length', () => {
    const out = feed(readBody(false, undefined, '5'), Buffer.from('héllo!'), [2]);
    expect(out).toEqual({ body: 'héll', end: 5 });
  });

  it('has no body for HEAD, 204 and 304, and reads until the close without framing', () => {
    expect(readBody(true, 'chunked', '10').done).toBe(true);
    const close = readBody(false, undefined, undefined);
    expect(close.untilClose).toBe(true);
    expect(feed(close, Buffer.from('all of it'), [3]).body).toBe('all of it');
    expect(readBody(false, 'gzip', undefined).untilClose).toBe(true);
    expect(readBody(false, undefined, 'nope').untilClose).toBe(true);
  });

  it('stops where the sink asks it to', () => {
    const reader = readBody(false, 'chunked', undefined);
    const buf = Buffer.from('1\r\na\r\n1\r\nb\r\n0\r\n\r\n');
    const seen: string[] = [];
    const used = reader.read(buf, 0, buf.length, (b, s, e) => {
      seen.push(b.toString('utf8', s, e));
      return false;
    });
    expect(seen).toEqual(['a']);
    expect(used).toBe(4);
  });
});
