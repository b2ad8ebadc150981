import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import type { Bus, BusListener, BusSubscribeOptions } from '../../bus/types.js';
import type { MemoryBus } from '../../bus/memory.js';
import { EventLog } from './event-log.js';
import { choice, collect, deferred, fixture, nextTick, range, type Fixture } from './test-helpers.js';

const seqs = (events: StoredEvent[]): number[] => events.map((e) => e.seq);

/** A bus that declares itself lossy and drops the publishes `drop` picks (network pub/sub in the small). */
class DroppingBus implements Bus {
  readonly lossy = true;
  publishes = 0;
  readonly losses: (() => void)[] = [];

  constructor(
    private readonly inner: MemoryBus,
    private readonly drop: (events: readonly StoredEvent[], index: number) => boolean,
  ) {}

  publish(events: readonly StoredEvent[]): Promise<void> {
    const index = ++this.publishes;
    return this.drop(events, index) ? Promise.resolve() : this.inner.publish(events);
  }

  subscribe(sessionId: string, listener: BusListener, opts?: BusSubscribeOptions): Promise<() => void> {
    if (opts?.onLoss) this.losses.push(opts.onLoss);
    return this.inner.subscribe(sessionId, listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('EventLog on a lossy bus', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('every Nth publish lost: subscribers joining at any seq get every event exactly once, the last included', async () => {
    f = await fixture(['s1', 's2']);
    // Drops every third batch, whichever session it carries; with one append per batch that includes
    // the final one of s1 (seq 30 is batch 60 or so, depending on interleaving).
    const bus = new DroppingBus(f.bus, (_events, i) => i % 3 === 0);
    const log = new EventLog(f.store, bus, { idleRecheckMs: 5 });
    const subs = [0, 0, 7, 15].map((after) => ({ after, got: collect(log.subscribe('s1', after), 30) }));
    const other = collect(log.subscribe('s2', 0), 30);
    for (let i = 0; i < 30; i++) {
      await log.append('s1', choice(`a${i}`));
      await log.append('s2', choice(`b${i}`));
    }
    const stored = await f.store.readEvents('s1', 0, 100);
    for (const { after, got } of subs) expect(await got).toEqual(stored.slice(after));
    expect(seqs(await other)).toEqual(range(1, 30));
    expect(bus.publishes).toBe(60);
  });

  it('the final event lost: an idle subscriber finds it in the store without any later event', async () => {
    f = await fixture(['s1']);
    const bus = new DroppingBus(f.bus, (events) => events.some((e) => e.type === 'stream_stopped'));
    const log = new EventLog(f.store, bus, { idleRecheckMs: 5 });
    const sub = log.subscribe('s1', 0);
    const it = sub[Symbol.asyncIterator]();
    await log.append('s1', choice('x'));
    const first = await it.next();
    expect(first.done ? [] : seqs(first.value)).toEqual([1]);
    // The subscriber is now waiting for live events; the bus swallows the turn's end.
    const pending = it.next();
    await log.append('s1', { type: 'stream_stopped', data: { turn_id: 't1', reason: 'normal' } });
    const last = await pending;
    expect(last.done ? [] : last.value.map((e) => [e.seq, e.type])).toEqual([[2, 'stream_stopped']]);
    sub.close();
  });

  it('a bus reporting a loss (reconnect) makes a waiting subscriber re-read the store at once', async () => {
    f = await fixture(['s1']);
    let dropping = false;
    const bus = new DroppingBus(f.bus, () => dropping);
    // Far longer than the test: only the loss report can bring the event in.
    const log = new EventLog(f.store, bus, { idleRecheckMs: 600_000 });
    const sub = log.subscribe('s1', 0);
    const it = sub[Symbol.asyncIterator]();
    await log.append('s1', choice('seen'));
    expect(await it.next()).toMatchObject({ done: false, value: [{ seq: 1 }] });
    const pending = it.next();
    dropping = true;
    await log.append('s1', choice('lost while disconnected'));
    await nextTick();
    for (const onLoss of bus.losses) onLoss();
    expect(await pending).toMatchObject({ done: false, value: [{ seq: 2, data: { content: 'lost while disconnected' } }] });
    sub.close();
  });

  it('reads the store only after the bus subscription is active, so nothing falls in between', async () => {
    f = await fixture(['s1']);
    const active = deferred();
    let live = false;
    const slow: Bus = {
      publish: (events) => (live ? f.bus.publish(events) : Promise.resolve()),
      subscribe: async (id, listener) => {
        await active.promise;
        live = true;
        return f.bus.subscribe(id, listener);
      },
      close: () => f.bus.close(),
    };
    let reads = 0;
    f.store.readEventsHook = (read) => {
      reads++;
      return read();
    };
    const log = new EventLog(f.store, slow);
    const sub = log.subscribe('s1', 0);
    const got = collect(sub, 3);
    // Committed while the SUBSCRIBE is in flight: the bus never delivers it, the store read must.
    await log.append('s1', choice('before active'));
    for (let i = 0; i < 3; i++) await nextTick();
    expect(reads).toBe(0);
    active.resolve();
    await log.append('s1', choice('after 1'));
    await log.append('s1', choice('after 2'));
    expect(seqs(await got)).toEqual([1, 2, 3]);
    sub.close();
  });

  it('a subscribe that fails ends the subscription with the error; a close before it resolves unsubscribes', async () => {
    f = await fixture(['s1']);
    const failing: Bus = {
      publish: () => Promise.resolve(),
      subscribe: () => Promise.reject(new Error('bus down')),
      close: () => Promise.resolve(),
    };
    const sub = new EventLog(f.store, failing).subscribe('s1', 0);
    const it = sub[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow('bus down');
    expect(await it.next()).toEqual({ done: true, value: undefined });

    const gate = deferred();
    const gated: Bus = {
      publish: (events) => f.bus.publish(events),
      subscribe: async (id, listener) => {
        await gate.promise;
        return f.bus.subscribe(id, listener);
      },
      close: () => Promise.resolve(),
    };
    const early = new EventLog(f.store, gated).subscribe('s1', 0);
    early.close();
    gate.resolve();
    for (let i = 0; i < 3; i++) await nextTick();
    expect(f.bus.listenerCount('s1')).toBe(0);
  });

  it('a publish that fails after commit is logged, and the append still resolves', async () => {
    f = await fixture(['s1']);
    const broken: Bus = {
      publish: () => Promise.reject(new Error('redis gone')),
      subscribe: (id, listener) => f.bus.subscribe(id, listener),
      close: () => Promise.resolve(),
    };
    const log = new EventLog(f.store, broken);
    await expect(log.append('s1', choice('durable'))).resolves.toMatchObject({ event: { seq: 1 } });
    expect(await f.store.lastSeq('s1')).toBe(1);
  });
});
