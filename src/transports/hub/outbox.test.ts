import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { Outbox, type RawSocket } from './outbox.js';
import { encodeTextFrame, frameText, type EncodedFrame } from './ws-frame.js';

/** A socket whose writes complete only when the test says so; what went out, in order. */
function socket(): { ws: WebSocket; raw: RawSocket; wire: string[]; complete(n: number): void } {
  const callbacks: (() => void)[] = [];
  const wire: string[] = [];
  const ws = {
    readyState: 1,
    send: (t: string, cb: () => void) => {
      wire.push(`ws:${t}`);
      callbacks.push(cb);
    },
  } as unknown as WebSocket;
  const raw: RawSocket = {
    cork: () => undefined,
    uncork: () => undefined,
    write: (bytes, cb) => {
      wire.push(`raw:${frameText(bytes as EncodedFrame)}`);
      callbacks.push(cb);
      return true;
    },
  };
  return { ws, raw, wire, complete: (n) => callbacks.splice(0, n).forEach((cb) => cb()) };
}

describe('Outbox', () => {
  it('counts unsent frames, reports full at the limit, and wakes waiters and the owner at half', async () => {
    const s = socket();
    const box = new Outbox(s.ws, 10, s.raw);
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
    const box = new Outbox(s.ws, 4, s.raw);
    let flushed = 0;
    box.onRoom = { flush: () => flushed++ };
    for (let i = 0; i < 4; i++) box.send('x');
    s.complete(2);
    expect(flushed).toBe(1);
  });

  it('ages the oldest unsent frame, and stops sending once closed', () => {
    const s = socket();
    const box = new Outbox(s.ws, 4, s.raw);
    box.send('a');
    expect(box.oldestWaitMs(Date.now() + 1000)).toBeGreaterThanOrEqual(1000);
    box.close();
    box.send('b');
    expect(box.backlog).toBe(1);
  });

  it('counts encoded frames like text ones, keeps their order with text sent through ws, and writes none once ws is closing', () => {
    const s = socket();
    const box = new Outbox(s.ws, 10, s.raw);
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
});
