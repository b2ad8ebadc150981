import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import type { Bus, BusListener } from '../../bus/types.js';
import { EventLog } from './event-log.js';
import { IDLE_RECHECK_MAX_MS, type IdleTimers } from './idle-recheck.js';
import { HookedStore, Recorder, choice, fixture, nextTick, range, type Fixture } from './test-helpers.js';

/** Timers that only fire when the test says so, and count what was armed. */
class ManualTimers implements IdleTimers {
  readonly delays: number[] = [];
  private readonly pending = new Set<{ fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms);
    const handle = { fn };
    this.pending.add(handle);
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as { fn: () => void });
  }

  get armed(): number {
    return this.pending.size;
  }

  /** Fires what is pending now (not what the firings arm). */
  fire(): void {
    const due = [...this.pending];
    this.pending.clear();
    for (const h of due) h.fn();
  }
}

/** Counts `lastSeq` reads (the idle re-check's) and can make them fail. */
class CountingStore extends HookedStore {
  lastSeqReads = 0;
  failLastSeq = false;

  override lastSeq(sessionId: string): Promise<number | undefined> {
    this.lastSeqReads++;
    if (this.failLastSeq) return Promise.reject(new Error('store down'));
    return super.lastSeq(sessionId);
  }
}

/** A lossy bus over the memory bus that drops what `drop` says. */
function lossyBus(f: Fixture, drop: (events: readonly StoredEvent[]) => boolean): Bus {
  return {
    lossy: true,
    publish: (events) => (drop(events) ? Promise.resolve() : f.bus.publish(events)),
    subscribe: (id: string, listener: BusListener) => f.bus.subscribe(id, listener),
    close: () => f.bus.close(),
  };
}

/** Lets a store read and the steps it sets off settle (event-driven: the reads are real SQLite calls). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTick();
}

describe('idle re-check on a lossy bus: one timer and one store read per session', () => {
  let f: Fixture;
  afterEach(async () => {
    vi.useRealTimers();
    await f.dispose();
  });

  async function setup(subscribers: number, drop: (events: readonly StoredEvent[]) => boolean = () => false) {
    f = await fixture(['s1']);
    const store = new CountingStore(f.store);
    const timers = new ManualTimers();
    const log = new EventLog(store, lossyBus(f, drop), { idleRecheckMs: 100, timers });
    const sinks = Array.from({ length: subscribers }, () => new Recorder());
    const subs = sinks.map((sink) => log.subscribeSink('s1', 0, sink));
    return { store, timers, log, sinks, subs };
  }

  it('a burst delivered to four subscribers arms one timer, not one per delivery and subscriber', async () => {
    const { timers, log, sinks } = await setup(4);
    for (let i = 0; i < 20; i++) await log.append('s1', choice(`t${i}`));
    await Promise.all(sinks.map((s) => s.until(20)));
    for (const s of sinks) expect(s.seqs).toEqual(range(1, 20));
    // One timer for the session, armed once: deliveries only mark activity.
    expect(timers.delays).toEqual([100]);
    expect(timers.armed).toBe(1);
  });

  it('after a burst the session reads the store once for all its subscribers, then backs off', async () => {
    const { store, timers, log, sinks } = await setup(4);
    for (let i = 0; i < 5; i++) await log.append('s1', choice(`t${i}`));
    await Promise.all(sinks.map((s) => s.until(5)));
    // (Each subscriber's start read `lastSeq` once: an empty page asks whether the session exists.)
    store.lastSeqReads = 0;
    // The first firing sees the burst's activity and waits one more first delay; no read yet.
    timers.fire();
    expect(store.lastSeqReads).toBe(0);
    timers.fire();
    await settle();
    expect(store.lastSeqReads).toBe(1);
    for (let i = 0; i < 8; i++) {
      timers.fire();
      await settle();
    }
    expect(store.lastSeqReads).toBe(9);
    expect(timers.delays).toEqual([100, 100, 200, 400, 800, 1600, 3200, IDLE_RECHECK_MAX_MS, IDLE_RECHECK_MAX_MS, IDLE_RECHECK_MAX_MS, IDLE_RECHECK_MAX_MS]);
    // Activity brings the first delay back.
    await log.append('s1', choice('again'));
    await Promise.all(sinks.map((s) => s.until(6)));
    timers.fire();
    expect(timers.delays.at(-1)).toBe(100);
  });

  it('the burst\'s last event lost: one shared read finds it, and every subscriber gets it once', async () => {
    const { store, timers, log, sinks } = await setup(3, (events) => events.some((e) => e.type === 'stream_stopped'));
    await log.append('s1', choice('a'));
    await log.append('s1', choice('b'));
    await Promise.all(sinks.map((s) => s.until(2)));
    store.lastSeqReads = 0;
    await log.append('s1', { type: 'stream_stopped', data: { turn_id: 't1', reason: 'normal' } });
    timers.fire();
    timers.fire();
    await Promise.all(sinks.map((s) => s.until(3)));
    expect(store.lastSeqReads).toBe(1);
    for (const s of sinks) expect(s.events.map((e) => [e.seq, e.type])).toEqual([[1, 'agent_choice'], [2, 'agent_choice'], [3, 'stream_stopped']]);
  });

  it('no timer while no subscriber is idle, and none left once the last one closes', async () => {
    const { timers, log, sinks, subs } = await setup(2);
    for (const s of sinks) s.answer = () => false;
    await log.append('s1', choice('a'));
    await Promise.all(sinks.map((s) => s.until(1)));
    // Both are held (their sinks said false): the pending firing reads nothing and arms nothing.
    timers.fire();
    timers.fire();
    await settle();
    expect(timers.armed).toBe(0);
    for (const s of subs) s.close();
    expect(timers.armed).toBe(0);
  });

  it('a failed store read is logged and taken as nothing new: it backs off and tries again', async () => {
    const { store, timers, log, sinks } = await setup(2);
    await log.append('s1', choice('a'));
    await Promise.all(sinks.map((s) => s.until(1)));
    store.lastSeqReads = 0;
    store.failLastSeq = true;
    timers.fire();
    timers.fire();
    await settle();
    expect(store.lastSeqReads).toBe(1);
    expect(timers.delays).toEqual([100, 100, 200]);
    for (const s of sinks) expect(s.ends).toEqual([]);
  });

  it('node timers by default: four idle subscribers leave one pending timer and make one read', async () => {
    f = await fixture(['s1']);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new CountingStore(f.store);
    const log = new EventLog(store, lossyBus(f, () => false), { idleRecheckMs: 100 });
    const sinks = Array.from({ length: 4 }, () => new Recorder());
    for (const sink of sinks) log.subscribeSink('s1', 0, sink);
    for (let i = 0; i < 10; i++) await log.append('s1', choice(`t${i}`));
    await Promise.all(sinks.map((s) => s.until(10)));
    store.lastSeqReads = 0;
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    vi.advanceTimersByTime(100);
    await settle();
    expect(store.lastSeqReads).toBe(1);
  });
});
