import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { Outbox } from './outbox.js';

/** A socket whose writes complete only when the test says so. */
function socket(): { ws: WebSocket; complete(n: number): void } {
  const callbacks: (() => void)[] = [];
  const ws = { send: (_t: string, cb: () => void) => callbacks.push(cb) } as unknown as WebSocket;
  return { ws, complete: (n) => callbacks.splice(0, n).forEach((cb) => cb()) };
}

describe('Outbox', () => {
  it('counts unsent frames, reports full at the limit, and wakes waiters and the owner at half', async () => {
    const s = socket();
    const box = new Outbox(s.ws, 10);
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
    const box = new Outbox(s.ws, 4);
    let flushed = 0;
    box.onRoom = { flush: () => flushed++ };
    for (let i = 0; i < 4; i++) box.send('x');
    s.complete(2);
    expect(flushed).toBe(1);
  });

  it('ages the oldest unsent frame, and stops sending once closed', () => {
    const s = socket();
    const box = new Outbox(s.ws, 4);
    box.send('a');
    expect(box.oldestWaitMs(Date.now() + 1000)).toBeGreaterThanOrEqual(1000);
    box.close();
    box.send('b');
    expect(box.backlog).toBe(1);
  });
});
