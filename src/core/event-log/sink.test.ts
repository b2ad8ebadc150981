import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';
import type { StoredPage } from './pages.js';
import { appendMany, deferred, fixture, nextTick, range, Recorder, type Fixture } from './test-helpers.js';



describe('EventLog.subscribeSink (push)', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('overflow and rejoin: a held sink keeps a bounded queue, then gets every event exactly once on resume', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 100 });
    const sink = new Recorder();
    sink.answer = () => false;
    const sub = log.subscribeSink('s1', 0, sink, { liveQueueLimit: 16 });
    await appendMany(log, 's1', 1, 1);
    await sink.until(1);
    // Held after its first batch: 3,000 events arrive meanwhile.
    const peaks: number[] = [];
    for (let i = 0; i < 30; i++) {
      await appendMany(log, 's1', 100, 7);
      peaks.push(sub.stats.queued);
    }
    expect(Math.max(...peaks)).toBeLessThanOrEqual(16);
    expect(sub.stats.overflows).toBeGreaterThan(0);
    sink.answer = () => true;
    sub.resume();
    await sink.until(3001);
    expect(sink.seqs).toEqual(range(1, 3001));
    expect(sub.stats.maxQueued).toBeLessThanOrEqual(16);
    // Back on the live path: new events come from the queue.
    const reads = sub.stats.storeReads;
    await appendMany(log, 's1', 5);
    await sink.until(3006);
    expect(sink.seqs).toEqual(range(1, 3006));
    expect(sub.stats.storeReads - reads).toBeLessThanOrEqual(1);
    sub.close();
    expect(sink.ends).toEqual([undefined]);
  });

  it('a promise from the sink holds the subscription until it settles; a rejection ends it with the error', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const sink = new Recorder();
    const gate = deferred();
    sink.answer = () => gate.promise;
    const sub = log.subscribeSink('s1', 0, sink);
    await appendMany(log, 's1', 1);
    await sink.until(1);
    await appendMany(log, 's1', 3);
    for (let i = 0; i < 3; i++) await nextTick();
    expect(sink.seqs).toEqual([1]);
    expect(sub.stats.queued).toBe(3);
    sink.answer = () => Promise.reject(new Error('consumer broke'));
    gate.resolve();
    await sink.until(4);
    expect(sink.seqs).toEqual([1, 2, 3, 4]);
    await nextTick();
    expect(sub.closed).toBe(true);
    expect(sink.ends).toHaveLength(1);
    expect(String(sink.ends[0])).toContain('consumer broke');
    expect(log.subscriberCount).toBe(0);
  });

  it('close during catch-up: ends at once, delivers nothing after, and lets go of the bus', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 10 });
    await appendMany(log, 's1', 50);
    const slow = deferred();
    let reads = 0;
    f.store.readEventsHook = async (read) => {
      if (++reads === 2) await slow.promise;
      return read();
    };
    const sink = new Recorder();
    const sub = log.subscribeSink('s1', 0, sink);
    await sink.until(10);
    // The second page's read is in flight: close now.
    while (reads < 2) await nextTick();
    sub.close();
    expect(sink.ends).toEqual([undefined]);
    slow.resolve();
    for (let i = 0; i < 5; i++) await nextTick();
    expect(sink.seqs).toEqual(range(1, 10));
    expect(sink.ends).toEqual([undefined]);
    expect(log.subscriberCount).toBe(0);
    expect(f.bus.listenerCount('s1')).toBe(0);
  });

  it('a sink that throws ends its subscription with the error', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    await appendMany(log, 's1', 2);
    const sink = new Recorder();
    sink.answer = () => {
      throw new Error('write failed');
    };
    const sub = log.subscribeSink('s1', 0, sink);
    await sink.until(2);
    await nextTick();
    expect(sub.closed).toBe(true);
    expect(String(sink.ends[0])).toContain('write failed');
  });

  it('starts held with paused: true, and delivers on resume', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    await appendMany(log, 's1', 3);
    const sink = new Recorder();
    const sub = log.subscribeSink('s1', 0, sink, { paused: true });
    for (let i = 0; i < 3; i++) await nextTick();
    expect(sink.batches).toHaveLength(0);
    sub.resume();
    await sink.until(3);
    expect(sink.seqs).toEqual([1, 2, 3]);
    sub.close();
  });

  it('resume(true) hands what waited in the ring to the sink before it returns; resume() in a microtask', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const sink = new Recorder();
    sink.answer = () => false;
    const sub = log.subscribeSink('s1', 0, sink);
    await appendMany(log, 's1', 1);
    await sink.until(1);
    // Held: two commits wait in the ring.
    await appendMany(log, 's1', 2);
    await appendMany(log, 's1', 1);
    for (let i = 0; i < 3; i++) await nextTick();
    expect(sink.seqs).toEqual([1]);
    expect(sub.stats.queued).toBe(3);
    sub.resume(true);
    expect(sink.seqs).toEqual([1, 2, 3, 4]);
    // Held again by that batch: a plain resume delivers the next one a microtask later.
    await appendMany(log, 's1', 1);
    for (let i = 0; i < 3; i++) await nextTick();
    sink.answer = () => true;
    sub.resume();
    expect(sink.seqs).toEqual([1, 2, 3, 4]);
    await sink.until(5);
    expect(sink.seqs).toEqual(range(1, 5));
    sub.close();
  });

  it('subscribers catching up the same range share the store page (and its rows)', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 4 });
    await appendMany(log, 's1', 10);
    const a = new Recorder();
    const subA = log.subscribeSink('s1', 0, a);
    await a.until(10);
    const b = new Recorder();
    const subB = log.subscribeSink('s1', 2, b);
    await b.until(10);
    expect(b.seqs).toEqual(range(3, 10));
    // B's first rows came from A's first full page (1..4), as a slice of the same object.
    expect(subB.stats.sharedReads).toBeGreaterThan(0);
    const pageOf = (r: Recorder, i: number): StoredPage | undefined => {
      const batch = r.batches[i];
      return batch?.from === 'store' ? batch.page : undefined;
    };
    expect(pageOf(b, 0)).toBe(pageOf(a, 0));
    expect(b.batches[0]).toMatchObject({ from: 'store', start: 2, end: 4 });
    subA.close();
    subB.close();
  });

  it('a short page read while the ring listened serves later subscribers while nothing newer is committed', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 100 });
    await appendMany(log, 's1', 3);
    const a = new Recorder();
    const subA = log.subscribeSink('s1', 0, a);
    await a.until(3);
    const b = new Recorder();
    const subB = log.subscribeSink('s1', 1, b);
    await b.until(3);
    expect(b.seqs).toEqual([2, 3]);
    expect(subB.stats).toMatchObject({ storeReads: 1, sharedReads: 1, overflows: 0 });
    const page = (r: Recorder): StoredPage | undefined => (r.batches[0]?.from === 'store' ? r.batches[0].page : undefined);
    expect(page(b)).toBe(page(a));
    // Both are live: what is committed next reaches both once.
    await appendMany(log, 's1', 1);
    await a.until(4);
    await b.until(4);
    expect(b.seqs).toEqual([2, 3, 4]);
    subA.close();
    subB.close();
  });

  it('never serves a short cached page read before the subscriber was listening (it may lack later events)', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 100 });
    await appendMany(log, 's1', 3);
    const a = new Recorder();
    const subA = log.subscribeSink('s1', 0, a);
    await a.until(3);
    // Published before B exists: only a fresh store read can give them to B.
    await appendMany(log, 's1', 2);
    await a.until(5);
    const b = new Recorder();
    const subB = log.subscribeSink('s1', 0, b);
    await b.until(5);
    expect(b.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(subB.stats.sharedReads).toBe(0);
    subA.close();
    subB.close();
  });

  it('keeps the shared pages within their byte bound', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 10, pages: { maxBytes: 6000, perSession: 8 } });
    await appendMany(log, 's1', 200);
    const sink = new Recorder();
    const sub = log.subscribeSink('s1', 0, sink);
    await sink.until(200);
    const held = (log as unknown as { pages: { heldBytes: number } }).pages.heldBytes;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(6000);
    sub.close();
    // The session's last subscriber here left: its pages go.
    expect((log as unknown as { pages: { heldBytes: number } }).pages.heldBytes).toBe(0);
  });
});
