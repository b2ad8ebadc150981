import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from './event-log.js';
import { fixture, nextTick, type Fixture } from './test-helpers.js';

const choice = (content: string) => ({ type: 'agent_choice' as const, data: { content } });

// The window runs on setTimeout and performance.now; setImmediate stays real, so "one tick" and
// "separate macrotasks" keep their meaning and nothing here depends on the wall clock.
describe('GroupCommit window: appends from separate macrotasks share a transaction', () => {
  let f: Fixture;
  afterEach(async () => {
    vi.useRealTimers();
    await f.dispose();
  });

  const fake = (): void => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  };

  it('holds appends that arrive in separate macrotasks after a commit until the window ends', async () => {
    fake();
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus, { commits: { flushIntervalMs: 2 } });
    await log.append('s2', choice('first'));
    const later = [log.append('s1', choice('a'))];
    await nextTick();
    later.push(log.append('s2', choice('b')));
    await nextTick();
    later.push(log.append('s1', choice('c')));
    await nextTick();
    expect(f.store.commits.map((c) => c.length)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(2);
    const seqs = (await Promise.all(later)).map((r) => r.event.seq);
    expect(seqs).toEqual([1, 2, 2]);
    expect(f.store.commits.map((c) => c.length)).toEqual([1, 3]);
    await log.close();
  });

  it('commits the first append after an idle spell on the next tick, and one tick in one transaction', async () => {
    fake();
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus, { commits: { flushIntervalMs: 2 } });
    await Promise.all([log.append('s1', choice('a')), log.append('s2', choice('b'))]);
    vi.advanceTimersByTime(5);
    await log.append('s1', choice('c'));
    expect(f.store.commits.map((c) => c.length)).toEqual([2, 1]);
    await log.close();
  });

  it('flush() and close() do not wait for the window', async () => {
    fake();
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus, { commits: { flushIntervalMs: 60_000 } });
    await log.append('s1', choice('a'));
    const b = log.append('s2', choice('b'));
    await nextTick();
    expect(f.store.commits).toHaveLength(1);
    await log.flush();
    expect((await b).event.seq).toBe(1);
    const c = log.append('s1', choice('c'));
    await nextTick();
    expect(f.store.commits).toHaveLength(2);
    await log.close();
    expect((await c).event.seq).toBe(2);
    expect(f.store.commits.map((x) => x.length)).toEqual([1, 1, 1]);
  });

  it('a full batch does not wait for the window', async () => {
    fake();
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus, { commits: { flushIntervalMs: 60_000, maxBatch: 3 } });
    await log.append('s2', choice('first'));
    const later = [log.append('s1', choice('a'))];
    await nextTick();
    later.push(log.append('s1', choice('b')));
    await nextTick();
    later.push(log.append('s1', choice('c')));
    expect((await Promise.all(later)).map((r) => r.event.seq)).toEqual([1, 2, 3]);
    expect(f.store.commits.map((c) => c.length)).toEqual([1, 3]);
    await log.close();
  });

  it('one session appending after its own commit does not wait for the window', async () => {
    fake();
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { commits: { flushIntervalMs: 60_000 } });
    for (let i = 0; i < 5; i++) await log.append('s1', choice(`m${i}`));
    expect(f.store.commits.map((c) => c.length)).toEqual([1, 1, 1, 1, 1]);
    await log.close();
  });

  it('flushIntervalMs 0 commits each macrotask on its own, as before the window', async () => {
    fake();
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus, { commits: { flushIntervalMs: 0 } });
    await log.append('s1', choice('first'));
    const a = log.append('s1', choice('a'));
    await nextTick();
    await nextTick();
    const b = log.append('s1', choice('b'));
    await Promise.all([a, b]);
    expect(f.store.commits.map((c) => c.length)).toEqual([1, 1, 1]);
    await log.close();
  });
});
