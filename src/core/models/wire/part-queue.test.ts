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

  describe('drain (push mode)', () => {
    /** A sink that records items and batch ends; `hold` makes the next batch wait on a promise. */
    function recorder() {
      const log: Array<number | '|'> = [];
      let hold: Promise<void> | undefined;
      return {
        log,
        holdNext: (p: Promise<void>) => (hold = p),
        sink: {
          item: (n: number) => void log.push(n),
          batch: () => {
            log.push('|');
            const h = hold;
            hold = undefined;
            return h;
          },
        },
      };
    }

    it('gives items synchronously as pushed, ends each synchronous run with one batch, then resolves after close', async () => {
      const queue = new PartQueue<number>(new AbortController().signal);
      queue.push(1);
      queue.push(2); // buffered before the consumer came: one run
      const r = recorder();
      let over = false;
      const drained = queue.drain(r.sink).then(() => (over = true));
      expect(r.log).toEqual([1, 2]);
      await Promise.resolve();
      expect(r.log).toEqual([1, 2, '|']);
      queue.push(3);
      expect(r.log).toEqual([1, 2, '|', 3]);
      queue.push(4);
      queue.close();
      queue.push(5); // after close: ignored
      await drained;
      expect(over).toBe(true);
      expect(r.log).toEqual([1, 2, '|', 3, 4, '|']);
    });

    it('a batch that returns a promise holds later items in the buffer under flow control, then gives them in one run', async () => {
      const queue = new PartQueue<number>(new AbortController().signal, { highWaterMark: 2, lowWaterMark: 0 });
      const src = source();
      queue.attach(src);
      const r = recorder();
      let open = () => {};
      r.holdNext(new Promise<void>((resolve) => (open = resolve)));
      const drained = queue.drain(r.sink);
      queue.push(1);
      await Promise.resolve(); // the batch: now held
      for (const n of [2, 3, 4]) queue.push(n);
      expect(r.log).toEqual([1, '|']);
      expect(src.calls).toEqual(['pause']);
      open();
      await new Promise((resolve) => setImmediate(resolve));
      expect(r.log).toEqual([1, '|', 2, 3, 4, '|']);
      expect(src.calls).toEqual(['pause', 'resume']);
      queue.close();
      await drained;
    });

    it('rejects with what the sink threw, cancels the source and tells the observer of the end once', async () => {
      const queue = new PartQueue<number>(new AbortController().signal);
      const src = source();
      queue.attach(src);
      let ends = 0;
      queue.observe({ item: () => {}, end: () => ends++ });
      const drained = queue.drain({
        item: (n) => {
          if (n === 2) throw new Error('sink broke');
        },
        batch: () => undefined,
      });
      queue.push(1);
      queue.push(2);
      queue.push(3);
      await expect(drained).rejects.toThrow('sink broke');
      expect(src.calls).toEqual(['cancel']);
      expect(queue.ended).toBe(true);
      expect(ends).toBe(1);
    });

    it('an abort resolves the drain at once, drops buffered items and skips the batch still due', async () => {
      const abort = new AbortController();
      const queue = new PartQueue<number>(abort.signal, { highWaterMark: 8 });
      const src = source();
      queue.attach(src);
      const r = recorder();
      const drained = queue.drain(r.sink);
      queue.push(1);
      abort.abort();
      queue.push(2);
      await drained;
      await Promise.resolve();
      expect(r.log).toEqual([1]);
      expect(src.calls).toEqual(['cancel']);
      const late = recorder();
      await new PartQueue<number>(AbortSignal.abort()).drain(late.sink);
      expect(late.log).toEqual([]);
    });

    it('tells an observer of each item given and of the end', async () => {
      const queue = new PartQueue<number>(new AbortController().signal);
      const seen: Array<number | 'end'> = [];
      queue.observe({ item: (n) => seen.push(n), end: () => seen.push('end') });
      queue.push(0); // buffered before the drain
      const drained = queue.drain(recorder().sink);
      queue.push(1);
      queue.push(2);
      queue.close();
      await drained;
      expect(seen).toEqual([0, 1, 2, 'end']);
    });
  });
});
