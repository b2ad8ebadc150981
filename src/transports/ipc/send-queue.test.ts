import { describe, expect, it } from 'vitest';
import type { Publisher } from 'zeromq';
import { silentLogger } from '../../core/logger.js';
import { BusPublisher } from './publisher.js';
import { SendQueue } from './send-queue.js';

describe('SendQueue', () => {
  it('sends one at a time, in order, and drops past its bound instead of waiting', async () => {
    const sent: number[] = [];
    let release: (() => void) | undefined;
    let inFlight = 0;
    const q = new SendQueue<number>(async (n) => {
      inFlight += 1;
      expect(inFlight).toBe(1);
      if (n === 0) await new Promise<void>((r) => (release = r));
      sent.push(n);
      inFlight -= 1;
    }, 5, () => undefined);
    for (let i = 0; i < 10; i++) q.push(i);
    // 0 is in flight (stuck), 1..5 wait, 6..9 were dropped.
    await new Promise((r) => setImmediate(r));
    expect(q.depth).toBe(5);
    expect(q.dropped).toBe(4);
    release!();
    await q.drained();
    expect(sent).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps going after a send throws synchronously (EBUSY) or rejects', async () => {
    const sent: number[] = [];
    const errors: unknown[] = [];
    const q = new SendQueue<number>((n) => {
      if (n === 1) throw new Error('EBUSY');
      if (n === 2) return Promise.reject(new Error('closed'));
      sent.push(n);
      return Promise.resolve();
    }, 100, (err) => errors.push(err));
    for (let i = 0; i < 4; i++) q.push(i);
    await q.drained();
    expect(sent).toEqual([0, 3]);
    expect(errors).toHaveLength(2);
  });
});

describe('BusPublisher with a subscriber that never reads', () => {
  it('returns at once for every publish and holds at most its bound', () => {
    const stuck = { closed: false, send: () => new Promise<void>(() => undefined) } as unknown as Publisher;
    const pub = new BusPublisher(stuck, 'inst', silentLogger, 1000);
    for (let i = 0; i < 50_000; i++) pub.publish('llm.token', { session_id: 's', token: `t${i}` }, 's');
    expect(pub.stats.queued).toBeLessThanOrEqual(1000);
    expect(pub.stats.dropped).toBeGreaterThan(48_000);
  });
});
