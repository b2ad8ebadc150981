import { describe, expect, it } from 'vitest';
import { headEnd, keepAliveIdleMs, notHttp, parseHead } from './http1-head.js';

/** Feeds `text` in pieces cut at `cuts`, searching each time only where the blank line can still begin, as the client does. */
function findIncrementally(text: string, cuts: number[]): [number, number] | undefined {
  let seen = '';
  const bounds = [0, ...cuts, text.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const searched = seen.length;
    seen += text.slice(bounds[k], bounds[k + 1]);
    const end = headEnd(seen, searched);
    if (end !== undefined) return end;
  }
  return undefined;
}

describe('headEnd', () => {
  it('finds the blank line whatever the cuts, with CRLF, bare LF and mixed line ends', () => {
    for (const head of ['HTTP/1.1 200 OK\r\nA: 1\r\n\r\nBODY', 'HTTP/1.1 200 OK\nA: 1\n\nBODY', 'HTTP/1.1 200 OK\r\nA: 1\n\r\nBODY', 'HTTP/1.1 200 OK\nA: 1\r\n\nBODY']) {
      const expected = headEnd(head, 0);
      expect(head.slice(expected![1])).toBe('BODY');
      for (let cut = 0; cut <= head.length; cut++) expect(findIncrementally(head, [cut])).toEqual(expected);
      expect(findIncrementally(head, [...head].map((_, i) => i).slice(1))).toEqual(expected);
    }
  });
});

describe('notHttp', () => {
  it('refuses a head as soon as its first bytes cannot be HTTP/', () => {
    expect(notHttp('HTT')).toBeUndefined();
    expect(notHttp('HTTP/1.1 200')).toBeUndefined();
    expect(notHttp('HTX')?.message).toMatch(/not an HTTP\/1.x response from the model server: "HTX"/);
    expect(notHttp('\u0000\u0001garbage\r\nmore')).toMatchObject({ code: 'HPE_INVALID_CONSTANT' });
  });
});

describe('parseHead', () => {
  it('reads the status, the minor version, folded and repeated headers', () => {
    expect(parseHead('HTTP/1.0 404 Not Found\r\nA: 1\r\n  more\r\na: 2')).toEqual({ minor: 0, head: { status: 404, statusText: 'Not Found', headers: { a: '1 more, 2' } } });
    expect(parseHead('HTTP/1.1 200')).toMatchObject({ minor: 1, head: { status: 200, statusText: '' } });
  });
});

describe('keepAliveIdleMs', () => {
  it("takes the server's timeout less a second when that is shorter than ours, 0 when it is 1 s or less", () => {
    expect(keepAliveIdleMs(undefined, 4000)).toBe(4000);
    expect(keepAliveIdleMs('max=100', 4000)).toBe(4000);
    expect(keepAliveIdleMs('timeout=5', 4000)).toBe(4000);
    expect(keepAliveIdleMs('timeout=3', 4000)).toBe(2000);
    expect(keepAliveIdleMs('max=100, Timeout = 2', 4000)).toBe(1000);
    expect(keepAliveIdleMs('timeout=1', 4000)).toBe(0);
    expect(keepAliveIdleMs('timeout=0', 4000)).toBe(0);
    expect(keepAliveIdleMs('xtimeout=2', 4000)).toBe(4000);
  });
});
