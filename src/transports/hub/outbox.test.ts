import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { WriteSlices } from '../write-slices.js';
import { Outbox, type RawSocket } from './outbox.js';
import { concatFrames, encodeTextFrame, frameText, frameTexts, type EncodedFrame } from './ws-frame.js';

/** A socket whose writes complete only when the test says so; what went out, in order. */
function socket(): { ws: WebSocket; raw: RawSocket; wire: string[]; corks: number[]; complete(n: number): void } {
  const callbacks: (() => void)[] = [];
  const wire: string[] = [];
  /** How many writes each outermost cork/uncork gathered. */
  const corks: number[] = [];
  let depth = 0;
  const ws = {
    readyState: 1,
    send: (t: string, cb: () => void) => {
      wire.push(`ws:${t}`);
      callbacks.push(cb);
    },
  } as unknown as WebSocket;
  const raw: RawSocket = {
    cork: () => {
      if (depth++ === 0) corks.push(0);
    },
    uncork: () => void depth--,
    write: (bytes, cb) => {
      if (depth > 0) corks[corks.length - 1]! += 1;
      wire.push(`raw:${frameText(bytes as EncodedFrame)}`);
      callbacks.push(cb);
      return true;
    },
  };
  return { ws, raw, wire, corks, complete: (n) => callbacks.splice(0, n).forEach((cb) => cb()) };
}

/**
 * A write budget no test can exhaust: the process's own scheduler keeps its 8 ms slice open across tests
 * of one turn, so on a loaded machine a test's writes could be held for a later turn.
 */
const unbounded = (): WriteSlices => new WriteSlices(Number.POSITIVE_INFINITY);

describe('Outbox', () => {
  it('counts unsent frames, reports full at the limit, and wakes waiters and the owner at half', async () => {
    const s = socket();
    const box = new Outbox(s.ws, 10, s.raw, unbounded());
    let flushed = 0;
    box.onRoom = { flush: () => flushed++ };
    for (let i = 0; i < 10; i++) box.send(`f${i}`);
    expect(box.full).toBe(true);
    let roomy = false;
    const room = box.room().then(() => (roomy = true));
    s.complete(4);
    await Promise.resolve();
    expect(roomy).toBe(false);
    s.complete(1);
    await room;
    expect(flushed).toBe(1);
    expect(box.backlog).toBe(5);
    expect(box.maxBacklog).toBe(10);
    s.complete(5);
    expect(box.oldestWaitMs(Date.now())).toBe(0);
  });

  it('wakes the owner even when no producer waits (coalesced state frames)', () => {
    const s = socket();
    const box = new Outbox(s.ws, 4, s.raw, unbounded());
    let flushed = 0;
    box.onRoom = { flush: () => flushed++ };
    for (let i = 0; i < 4; i++) box.send('x');
    s.complete(2);
    expect(flushed).toBe(1);
  });

  it('ages the oldest unsent frame, and stops sending once closed', () => {
    const s = socket();
    const box = new Outbox(s.ws, 4, s.raw, unbounded());
    box.send('a');
    expect(box.oldestWaitMs(Date.now() + 1000)).toBeGreaterThanOrEqual(1000);
    box.close();
    box.send('b');
    expect(box.backlog).toBe(1);
  });

  it('counts encoded frames like text ones, keeps their order with text sent through ws, and writes none once ws is closing', () => {
    const s = socket();
    const box = new Outbox(s.ws, 10, s.raw, unbounded());
    box.send('{"type":"a"}');
    box.send(encodeTextFrame('{"type":"b"}'));
    box.send('{"type":"c"}');
    expect(s.wire).toEqual(['ws:{"type":"a"}', 'raw:{"type":"b"}', 'ws:{"type":"c"}']);
    expect(box.backlog).toBe(3);
    s.complete(3);
    expect(box.backlog).toBe(0);
    (s.ws as unknown as { readyState: number }).readyState = 2;
    box.send(encodeTextFrame('{"type":"d"}'));
    expect(s.wire).toHaveLength(3);
    expect(box.backlog).toBe(0);
  });

  it('counts a run of encoded frames written as one as that many frames, and frees them when it is written', () => {
    const s = socket();
    const box = new Outbox(s.ws, 4, s.raw, unbounded());
    const run = concatFrames(['{"type":"a"}', '{"type":"b"}', '{"type":"c"}'].map(encodeTextFrame));
    box.send(run, 3);
    box.send(encodeTextFrame('{"type":"d"}'));
    expect(s.wire).toHaveLength(2);
    expect(frameTexts(run)).toEqual(['{"type":"a"}', '{"type":"b"}', '{"type":"c"}']);
    expect(box.backlog).toBe(4);
    expect(box.full).toBe(true);
    s.complete(1);
    expect(box.backlog).toBe(1);
    s.complete(1);
    expect(box.backlog).toBe(0);
    expect(box.maxBacklog).toBe(4);
  });

  describe('past the write budget (a zero budget: one write per slice)', () => {
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

    it('holds frames in order, counts them in the backlog, and writes them in one corked write in a later turn', async () => {
      const slices = new WriteSlices(0);
      const a = socket();
      const b = socket();
      const boxA = new Outbox(a.ws, 4, a.raw, slices);
      const boxB = new Outbox(b.ws, 4, b.raw, slices);
      boxA.send(encodeTextFrame('{"n":1}'));
      boxB.send(encodeTextFrame('{"n":1}'));
      boxB.send('{"n":2}');
      boxB.send(encodeTextFrame('{"n":3}'));
      boxA.send(encodeTextFrame('{"n":2}'));
      expect(a.wire).toEqual(['raw:{"n":1}']);
      expect(b.wire).toEqual([]);
      expect(boxB.backlog).toBe(3);
      boxB.send(encodeTextFrame('{"n":4}'));
      // Held frames count: a producer that can catch up from the store waits for room as before.
      expect(boxB.full).toBe(true);
      let roomy = false;
      const room = boxB.room().then(() => (roomy = true));
      await turn();
      expect(b.wire).toEqual(['raw:{"n":1}', 'ws:{"n":2}', 'raw:{"n":3}', 'raw:{"n":4}']);
      expect(b.corks).toEqual([3]);
      expect(a.wire).toEqual(['raw:{"n":1}']);
      await turn();
      expect(a.wire).toEqual(['raw:{"n":1}', 'raw:{"n":2}']);
      b.complete(2);
      await room;
      expect(roomy).toBe(true);
      b.complete(2);
      expect(boxB.backlog).toBe(0);
    });

    it('writes none of what it held once closed, and writes it at once when asked before a close', async () => {
      const slices = new WriteSlices(0);
      const a = socket();
      const b = socket();
      const c = socket();
      const boxA = new Outbox(a.ws, 10, a.raw, slices);
      const boxB = new Outbox(b.ws, 10, b.raw, slices);
      const boxC = new Outbox(c.ws, 10, c.raw, slices);
      boxA.send('{"n":1}');
      boxB.send('{"n":1}');
      boxC.send('{"n":1}');
      boxC.send('{"n":2}');
      boxB.close();
      boxC.runSlice();
      expect(c.wire).toEqual(['ws:{"n":1}', 'ws:{"n":2}']);
      for (let i = 0; i < 3; i++) await turn();
      expect(b.wire).toEqual([]);
      expect(c.wire).toHaveLength(2);
    });
  });
});
