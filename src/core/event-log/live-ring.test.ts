import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from './event-log.js';
import { appendMany, fixture, nextTick, range, Recorder, type Fixture } from './test-helpers.js';



/** The event arrays of the live batches a sink got. */
const liveRuns = (r: Recorder): unknown[] => r.batches.flatMap((b) => (b.from === 'live' ? [b.events] : []));

describe('LiveRing (one shared live buffer per session)', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('serves many subscribers at different cursors from one bus listener, handing caught-up ones the same run', async () => {
    f = await fixture(['s1']);
    const subscribe = vi.spyOn(f.bus, 'subscribe');
    const log = new EventLog(f.store, f.bus, { pageSize: 16 });
    await appendMany(log, 's1', 40, 10);
    const starts = [0, 5, 17, 33, 40, 40, 40];
    const sinks = starts.map(() => new Recorder());
    const subs = starts.map((from, i) => log.subscribeSink('s1', from, sinks[i] as Recorder));
    await Promise.all(sinks.filter((_, i) => (starts[i] as number) < 40).map((s) => s.until(40)));
    // Joining while events keep coming, at yet other cursors.
    const writing = appendMany(log, 's1', 60, 3);
    const late = [new Recorder(), new Recorder()];
    const lateSubs = [log.subscribeSink('s1', 12, late[0] as Recorder), log.subscribeSink('s1', 41, late[1] as Recorder)];
    await writing;
    await Promise.all([...sinks, ...late].map((s) => s.until(100)));
    expect(subscribe).toHaveBeenCalledTimes(1);
    starts.forEach((from, i) => expect((sinks[i] as Recorder).seqs).toEqual(range(from + 1, 100)));
    expect(late[0]?.seqs).toEqual(range(13, 100));
    expect(late[1]?.seqs).toEqual(range(42, 100));
    // Subscribers that kept up got each commit's run as one shared array, not a copy each.
    const runs = liveRuns(sinks[4] as Recorder);
    expect(runs.length).toBeGreaterThan(0);
    const other = liveRuns(sinks[5] as Recorder);
    expect(other).toHaveLength(runs.length);
    other.forEach((run, i) => expect(run).toBe(runs[i]));
    for (const s of [...subs, ...lateSubs]) s.close();
    await nextTick();
  });

  it('wraps around a slow subscriber: it falls behind the bounded ring and catches up from the store, exactly once', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { pageSize: 10, liveQueueLimit: 8 });
    const fast = new Recorder();
    const slow = new Recorder();
    // The slow sink takes one batch per two macrotask turns; the writer commits 20 events per turn.
    slow.answer = () => nextTick().then(nextTick);
    const fastSub = log.subscribeSink('s1', 0, fast, { liveQueueLimit: 8 });
    const slowSub = log.subscribeSink('s1', 0, slow, { liveQueueLimit: 8 });
    await appendMany(log, 's1', 300, 20);
    await Promise.all([fast.until(300), slow.until(300)]);
    expect(fast.seqs).toEqual(range(1, 300));
    expect(slow.seqs).toEqual(range(1, 300));
    expect(slowSub.stats.maxQueued).toBeLessThanOrEqual(8);
    expect(fastSub.stats.maxQueued).toBeLessThanOrEqual(8);
    expect(slowSub.stats.overflows).toBeGreaterThan(0);
    expect(slowSub.stats.storeReads).toBeGreaterThan(1);
    // Both back on the live path: the next commits reach both, from the ring.
    const reads = slowSub.stats.storeReads;
    slow.answer = () => true;
    await appendMany(log, 's1', 3, 3);
    await Promise.all([fast.until(303), slow.until(303)]);
    expect(slow.seqs).toEqual(range(1, 303));
    expect(slowSub.stats.storeReads - reads).toBeLessThanOrEqual(1);
    fastSub.close();
    slowSub.close();
  });

  it('a held subscriber resumes from the ring while it still holds its cursor (no store read)', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { liveQueueLimit: 64 });
    const sink = new Recorder();
    const sub = log.subscribeSink('s1', 0, sink);
    await appendMany(log, 's1', 1, 1);
    await sink.until(1);
    const reads = sub.stats.storeReads;
    sink.answer = () => false;
    await appendMany(log, 's1', 1, 1);
    await sink.until(2);
    await appendMany(log, 's1', 20, 4);
    expect(sub.stats.queued).toBe(20);
    sink.answer = () => true;
    sub.resume();
    await sink.until(22);
    expect(sink.seqs).toEqual(range(1, 22));
    expect(sub.stats.storeReads).toBe(reads);
    expect(sub.stats.overflows).toBe(0);
    sub.close();
  });

  it('hands each live event its payload text as the store wrote it, caught up or stepping from the ring', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { liveQueueLimit: 256 });
    const fast = new Recorder();
    const held = new Recorder();
    const fastSub = log.subscribeSink('s1', 0, fast);
    const heldSub = log.subscribeSink('s1', 0, held);
    await appendMany(log, 's1', 1, 1);
    await Promise.all([fast.until(1), held.until(1)]);
    // From now on the held sink takes a batch per macrotask turn: it steps from the ring (`runAfter`).
    held.answer = nextTick;
    const payloads = [{ content: 'ü 😀 \udc00 "q"' }, { content: 'n', parts: [{ type: 'text', seq: 1 }] }, { content: '' }];
    await appendMany(log, 's1', 20, 7);
    await log.appendAll('s1', payloads.map((data) => ({ event: { type: 'agent_choice' as const, data } })));
    await Promise.all(payloads.map((data) => log.append('s1', { type: 'agent_choice', data })));
    const stored = new Map((await f.store.readEventsRaw('s1', 0, 1000)).map((r) => [r.seq, r.data]));
    const deleted = await log.append('s1', { type: 'session_deleted', data: {} }, { delete_session: true });
    stored.set(deleted.event.seq, '{}');
    await Promise.all([fast.until(deleted.event.seq), held.until(deleted.event.seq)]);
    for (const sink of [fast, held]) {
      const live = sink.batches.filter((b) => b.from === 'live');
      expect(live.length).toBeGreaterThan(3);
      for (const b of live) expect(b.dataJson).toEqual(b.events.map((e) => stored.get(e.seq)));
      expect(sink.seqs).toEqual(range(1, deleted.event.seq));
    }
    // The held sink's batches were its own (stepped from the ring), not the runs the fast one got.
    const fastRuns = new Set(fast.batches.map((b) => (b.from === 'live' ? b.events : undefined)));
    expect(held.batches.some((b) => b.from === 'live' && !fastRuns.has(b.events))).toBe(true);
    fastSub.close();
    heldSub.close();
  });

  it('a run handed out never changes afterwards, while a held subscriber keeps the ring from emptying', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const fast = new Recorder();
    const held = new Recorder();
    let holding = true;
    let release: () => void = () => {};
    held.answer = () => (holding ? new Promise<void>((r) => (release = r)) : true);
    log.subscribeSink('s1', 0, fast);
    log.subscribeSink('s1', 0, held);
    await appendMany(log, 's1', 3, 3);
    await Promise.all([fast.until(3), held.until(3)]);
    // Caught up, the ring hands both the same run; `held` then holds, so the ring keeps what follows.
    await appendMany(log, 's1', 4, 2);
    await fast.until(7);
    const seen = fast.batches.map((b) => (b.from === 'live' ? [...b.events] : []));
    await appendMany(log, 's1', 6, 3);
    await fast.until(13);
    fast.batches.forEach((b, i) => {
      if (b.from === 'live' && i < seen.length) expect(b.events).toEqual(seen[i]);
    });
    holding = false;
    release();
    await held.until(13);
    expect(held.seqs).toEqual(range(1, 13));
    expect(fast.seqs).toEqual(range(1, 13));
  });

  it('drops the bus listener with the last subscriber, and a new one subscribes afresh', async () => {
    f = await fixture(['s1']);
    const subscribe = vi.spyOn(f.bus, 'subscribe');
    const log = new EventLog(f.store, f.bus);
    const a = new Recorder();
    const subA = log.subscribeSink('s1', 0, a);
    await appendMany(log, 's1', 2, 2);
    await a.until(2);
    subA.close();
    await appendMany(log, 's1', 2, 2);
    const b = new Recorder();
    const subB = log.subscribeSink('s1', 1, b);
    await appendMany(log, 's1', 1, 1);
    await b.until(5);
    expect(b.seqs).toEqual(range(2, 5));
    expect(subscribe).toHaveBeenCalledTimes(2);
    subB.close();
  });
});
