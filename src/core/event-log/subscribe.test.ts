import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import type { Bus, BusListener } from '../../bus/types.js';
import { EventLog } from './event-log.js';
import { appendMany, choice, collect, deferred, fixture, nextTick, range, type Fixture } from './test-helpers.js';



function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const seqs = (events: StoredEvent[]): number[] => events.map((e) => e.seq);

describe('EventLog.subscribe', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('yields stored events after the cursor in pages, then live ones, as ascending batches', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 4 });
    await appendMany(log, 's1', 10);
    const sub = log.subscribe('s1', 3);
    const it = sub[Symbol.asyncIterator]();
    const batches: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const r = await it.next();
      if (!r.done) batches.push(seqs(r.value));
    }
    expect(batches).toEqual([[4, 5, 6, 7], [8, 9, 10]]);
    expect(sub.cursor).toBe(10);
    const pending = it.next();
    await appendMany(log, 's1', 3);
    const live = await pending;
    expect(live.done).toBe(false);
    const got = live.done ? [] : seqs(live.value);
    const rest = await collect(sub, 13);
    expect([...got, ...seqs(rest)]).toEqual([11, 12, 13]);
    // One full page, one short page; the live events came from the queue.
    expect(sub.stats.storeReads).toBe(2);
    sub.close();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('registers the live listener before reading the store (events published during the read are not lost)', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    await appendMany(log, 's1', 3);
    // The read takes its result first, then lets 2 more events commit and publish before returning it:
    // those two can only reach the subscriber through a listener that already existed.
    f.store.readEventsHook = async (read) => {
      const result = await read();
      f.store.readEventsHook = undefined;
      await appendMany(log, 's1', 2);
      return result;
    };
    const sub = log.subscribe('s1', 0);
    expect(seqs(await within(collect(sub, 5), 2000))).toEqual([1, 2, 3, 4, 5]);
    expect(sub.stats.storeReads).toBe(1);
    sub.close();
  });

  it('re-arms the live queue before the catch-up read after an overflow', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const sub = log.subscribe('s1', 0, { liveQueueLimit: 2 });
    await appendMany(log, 's1', 10);
    expect(sub.stats.overflows).toBe(1);
    // As in the join test: two events are published after the catch-up read took its result. Only a
    // queue re-armed before that read holds them; no later event comes to reveal a gap.
    f.store.readEventsHook = async (read) => {
      const result = await read();
      f.store.readEventsHook = undefined;
      await appendMany(log, 's1', 2);
      return result;
    };
    expect(seqs(await within(collect(sub, 12), 2000))).toEqual(range(1, 12));
    sub.close();
  });

  it('ends at once for an unknown session', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const sub = log.subscribe('ghost', 0);
    expect(await sub[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
    expect(log.subscriberCount).toBe(0);
  });

  it('ends after yielding session_deleted (live)', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    await appendMany(log, 's1', 2);
    const sub = log.subscribe('s1', 0);
    const it = sub[Symbol.asyncIterator]();
    expect(seqs((await it.next()).value ?? [])).toEqual([1, 2]);
    const pending = it.next();
    await log.append('s1', choice('last'));
    await log.append('s1', { type: 'session_deleted', data: {} }, { delete_session: true });
    const all: StoredEvent[] = [];
    for (let r = await pending; !r.done; r = await it.next()) all.push(...r.value);
    expect(all.map((e) => [e.seq, e.type])).toEqual([[3, 'agent_choice'], [4, 'session_deleted']]);
    expect(log.subscriberCount).toBe(0);
    expect(f.bus.listenerCount('s1')).toBe(0);
  });

  it('delivers session_deleted to a subscriber that fell behind before the delete removed the log', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { liveQueueLimit: 4 });
    const sub = log.subscribe('s1', 0);
    await appendMany(log, 's1', 20);
    await log.append('s1', { type: 'session_deleted', data: {} }, { delete_session: true });
    const got: StoredEvent[] = [];
    for await (const batch of sub) got.push(...batch);
    expect(got.map((e) => e.type)).toEqual(['session_deleted']);
    expect(got[0]?.seq).toBe(21);
  });

  it('abort and close end a pending next(); an already aborted signal ends at once', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    await appendMany(log, 's1', 1);
    const ac = new AbortController();
    const sub = log.subscribe('s1', 1, { signal: ac.signal });
    const pending = sub[Symbol.asyncIterator]().next();
    await nextTick();
    ac.abort();
    expect(await pending).toEqual({ done: true, value: undefined });

    const sub2 = log.subscribe('s1', 1);
    const pending2 = sub2[Symbol.asyncIterator]().next();
    await nextTick();
    sub2.close();
    expect(await pending2).toEqual({ done: true, value: undefined });

    // Closing while the store read is still running also resolves promptly.
    const slow = deferred();
    f.store.readEventsHook = async (read) => {
      await slow.promise;
      return read();
    };
    const sub3 = log.subscribe('s1', 0);
    const pending3 = sub3[Symbol.asyncIterator]().next();
    sub3.close();
    expect(await pending3).toEqual({ done: true, value: undefined });
    slow.resolve();

    const aborted = AbortSignal.abort();
    const sub4 = log.subscribe('s1', 0, { signal: aborted });
    expect(await sub4[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
    expect(log.subscriberCount).toBe(0);
    expect(f.bus.listenerCount('s1')).toBe(0);
  });

  it('ends every subscription on close, after flushing appends', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const sub = log.subscribe('s1', 0);
    const got = collect(sub, Number.POSITIVE_INFINITY);
    void log.append('s1', choice('x'));
    await log.close();
    expect(seqs(await got)).toEqual([1]);
    expect(log.subscriberCount).toBe(0);
  });

  it('repairs a gap left by a lossy bus from the store', async () => {
    f = await fixture(['s1']);
    const lossy: Bus = {
      publish: (events) => f.bus.publish(events.filter((e) => e.seq % 3 !== 0)),
      subscribe: (id: string, l: BusListener) => f.bus.subscribe(id, l),
      close: () => f.bus.close(),
    };
    const log = new EventLog(f.store, lossy);
    const sub = log.subscribe('s1', 0);
    // The last event must get through: a gap is only visible once a later event arrives.
    const got = collect(sub, 31);
    for (let i = 0; i < 31; i++) await log.append('s1', choice(String(i)));
    expect(seqs(await got)).toEqual(range(1, 31));
    // Beyond the initial read, at least one read repaired gaps (how many depends on how far the appends
    // ran ahead: a repair read yields first, so it may cover several gaps at once).
    expect(sub.stats.storeReads).toBeGreaterThanOrEqual(2);
    sub.close();
  });

  it('overflow: a subscriber that does not pull gets all 5,000 events exactly once with bounded memory', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const sub = log.subscribe('s1', 0, { liveQueueLimit: 16 });
    const peaks: number[] = [];
    for (let i = 0; i < 50; i++) {
      await appendMany(log, 's1', 100, 7);
      peaks.push(sub.stats.queued);
    }
    expect(Math.max(...peaks)).toBeLessThanOrEqual(16);
    expect(sub.stats.overflows).toBeGreaterThan(0);
    const got = await collect(sub, 5000);
    expect(seqs(got)).toEqual(range(1, 5000));
    expect(got).toEqual(await f.store.readEvents('s1', 0, 10_000));
    expect(sub.stats.maxQueued).toBeLessThanOrEqual(16);

    // Back on the live path after catching up: at most one more (short) read confirms the catch-up
    // ended on a full page, then events come from the queue.
    const reads = sub.stats.storeReads;
    const live = collect(sub, 5003);
    await appendMany(log, 's1', 3);
    expect(seqs(await live)).toEqual([5001, 5002, 5003]);
    expect(sub.stats.storeReads - reads).toBeLessThanOrEqual(1);
    const live2 = collect(sub, 5006);
    await appendMany(log, 's1', 3);
    expect(seqs(await live2)).toEqual([5004, 5005, 5006]);
    const settledReads = sub.stats.storeReads;
    const live3 = collect(sub, 5009);
    await appendMany(log, 's1', 3);
    expect(seqs(await live3)).toEqual([5007, 5008, 5009]);
    expect(sub.stats.storeReads).toBe(settledReads);
    sub.close();
  });

  it('overflow while pulling slowly: still complete and in order', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 50 });
    const sub = log.subscribe('s1', 0, { liveQueueLimit: 8 });
    const got: StoredEvent[] = [];
    const consumer = (async () => {
      for await (const batch of sub) {
        got.push(...batch);
        if (sub.cursor >= 2000) break;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await appendMany(log, 's1', 2000, 25);
    await consumer;
    expect(seqs(got)).toEqual(range(1, 2000));
    expect(sub.stats.maxQueued).toBeLessThanOrEqual(8);
  });
});
