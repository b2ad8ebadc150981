import { describe, expect, it } from 'vitest';
import { PartQueue, type QueueSource } from './part-queue.js';

function source(): QueueSource & { calls: string[] } {
  const calls: string[] = [];
  return { calls, pause: () => calls.push('pause'), resume: () => calls.push('resume'), cancel: () => calls.push('cancel') };
}

describe('PartQueue', () => {
  it('hands items to a waiting consumer and buffered ones in order, then ends after close', async () => {
    const queue = new PartQueue<number>(new AbortController().signal);
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    queue.close();
    queue.push(4); // after close: ignored
    const got: number[] = [(await first).value as number];
    for await (const n of queue) got.push(n);
    expect(got).toEqual([1, 2, 3]);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('pauses the source at the high-water mark and resumes it at the low one', async () => {
    const queue = new PartQueue<number>(new AbortController().signal, { highWaterMark: 4, lowWaterMark: 1 });
    const src = source();
    queue.attach(src);
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(src.calls).toEqual(['pause']);
    await queue.next();
    await queue.next();
    expect(src.calls).toEqual(['pause']);
    await queue.next(); // two left
    await queue.next(); // one left: at the low-water mark
    expect(src.calls).toEqual(['pause', 'resume']);
  });

  it('a source attached late learns it is paused', () => {
    const queue = new PartQueue<number>(new AbortController().signal, { highWaterMark: 1 });
    queue.push(1);
    const src = source();
    queue.attach(src);
    expect(src.calls).toEqual(['pause']);
  });

  it('after turnBudget buffered items in a row, lets a macrotask run before the next one', async () => {
    const queue = new PartQueue<number>(new AbortController().signal, { turnBudget: 2 });
    for (let i = 0; i < 5; i++) queue.push(i);
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    for (let i = 0; i < 5; i++) order.push(String((await queue.next()).value));
    expect(order).toEqual(['0', '1', 'immediate', '2', '3', '4']);
  });

  it('ends at once on abort: buffered items dropped, a waiting consumer released, the source cancelled', async () => {
    const controller = new AbortController();
    const queue = new PartQueue<number>(controller.signal);
    const src = source();
    queue.attach(src);
    queue.push(1);
    expect(await queue.next()).toEqual({ done: false, value: 1 });
    const waiting = queue.next();
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    queue.push(2);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
    expect(src.calls).toEqual(['cancel']);
    expect(queue.ended).toBe(true);
  });

  it('an early return (break) cancels the source; an already aborted signal cancels it on attach', async () => {
    const queue = new PartQueue<number>(new AbortController().signal);
    const src = source();
    queue.attach(src);
    queue.push(1);
    queue.push(2);
    for await (const n of queue) if (n === 1) break;
    expect(src.calls).toEqual(['cancel']);
    const late = source();
    new PartQueue<number>(AbortSignal.abort()).attach(late);
    expect(late.calls).toEqual(['cancel']);
  });

  it('takeReady hands buffered items over synchronously, under the same flow control, none after an abort', async () => {
    const controller = new AbortController();
    const queue = new PartQueue<number>(controller.signal, { highWaterMark: 3, lowWaterMark: 1 });
    const src = source();
    queue.attach(src);
    expect(queue.takeReady()).toBeUndefined();
    for (let i = 0; i < 4; i++) queue.push(i);
    expect(src.calls).toEqual(['pause']);
    expect([queue.takeReady(), queue.takeReady()]).toEqual([0, 1]);
    expect(src.calls).toEqual(['pause']);
    expect(queue.takeReady()).toBe(2); // one left: at the low-water mark
    expect(src.calls).toEqual(['pause', 'resume']);
    queue.push(4);
    controller.abort();
    expect(queue.takeReady()).toBeUndefined();
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('tells an observer of each item as the consumer gets it, and of the end once', async () => {
    const queue = new PartQueue<number>(new AbortController().signal);
    const seen: Array<number | 'end'> = [];
    queue.observe({ item: (n) => seen.push(n), end: () => seen.push('end') });
    const first = queue.next();
    queue.push(1);
    expect(seen).toEqual([1]);
    queue.push(2);
    queue.push(3);
    expect(seen).toEqual([1]);
    expect(queue.takeReady()).toBe(2);
    expect((await queue.next()).value).toBe(3);
    await first;
    queue.close();
    expect((await queue.next()).done).toBe(true);
    expect((await queue.next()).done).toBe(true);
    await queue.return();
    expect(seen).toEqual([1, 2, 3, 'end']);
  });

  it('tells an observer of the end when an abort releases the waiting consumer', async () => {
    const abort = new AbortController();
    const queue = new PartQueue<number>(abort.signal);
    let ends = 0;
    queue.observe({ item: () => {}, end: () => ends++ });
    const waiting = queue.next();
    abort.abort();
    expect((await waiting).done).toBe(true);
    expect(ends).toBe(1);
  });
});
