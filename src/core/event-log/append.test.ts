import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../protocol/events.js';
import { EventLog } from './event-log.js';
import { choice, deferred, fixture, nextTick, type Fixture } from './test-helpers.js';


describe('EventLog.append (group commit)', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('commits appends made in one tick in one store call, seqs 1..N in order', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append('s1', choice(`m${i}`))));
    expect(f.store.commits).toHaveLength(1);
    expect(f.store.commits[0]).toHaveLength(50);
    expect(results.map((r) => r.event.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(results.map((r) => r.event.data)).toEqual(Array.from({ length: 50 }, (_, i) => ({ content: `m${i}` })));
    expect(await f.store.lastSeq('s1')).toBe(50);
  });

  it('publishes only after the commit resolved, and resolves appends only after publishing', async () => {
    f = await fixture(['s1', 's2']);
    const gate = deferred();
    f.store.beforeCommit = () => gate.promise;
    const seen: StoredEvent[] = [];
    f.bus.subscribe('s1', (e) => seen.push(e));
    f.bus.subscribe('s2', (e) => seen.push(e));
    const log = new EventLog(f.store, f.bus);
    let resolved = 0;
    const appends = ['s1', 's2', 's1'].map((id) =>
      log.append(id, choice(id)).then((r) => {
        // By the time any append resolves, the whole batch is on the bus.
        expect(seen).toHaveLength(3);
        resolved++;
        return r;
      }),
    );
    for (let i = 0; i < 5; i++) await nextTick();
    expect(f.store.commits).toHaveLength(1);
    expect(seen).toEqual([]);
    expect(resolved).toBe(0);
    gate.resolve();
    const results = await Promise.all(appends);
    expect(seen.map((e) => [e.session_id, e.seq])).toEqual([['s1', 1], ['s2', 1], ['s1', 2]]);
    expect(seen).toEqual(results.map((r) => r.event));
  });

  it('collects the next batch while a commit is in flight, never running two commits at once', async () => {
    f = await fixture(['s1']);
    const gate = deferred();
    f.store.beforeCommit = async () => {
      if (f.store.commits.length === 1) await gate.promise;
    };
    const log = new EventLog(f.store, f.bus);
    const first = log.append('s1', choice('a'));
    await nextTick();
    expect(f.store.commits).toHaveLength(1);
    const later = [log.append('s1', choice('b')), log.append('s1', choice('c'))];
    await nextTick();
    const more = log.append('s1', choice('d'));
    await nextTick();
    expect(f.store.commits).toHaveLength(1);
    gate.resolve();
    const all = await Promise.all([first, ...later, more]);
    expect(all.map((r) => r.event.seq)).toEqual([1, 2, 3, 4]);
    expect(f.store.commits.map((c) => c.length)).toEqual([1, 3]);
    expect(f.store.maxInFlightCommits).toBe(1);
  });

  it('rejects every append of a failed batch, publishes nothing, and keeps working', async () => {
    f = await fixture(['s1', 's2']);
    const seen: StoredEvent[] = [];
    f.bus.subscribe('s1', (e) => seen.push(e));
    const log = new EventLog(f.store, f.bus);
    let fail = true;
    f.store.beforeCommit = async () => {
      if (fail) throw new Error('disk full');
    };
    const batch = [
      log.append('s1', choice('a'), { message: { role: 'user', content: 'hi' } }),
      log.append('s2', choice('b')),
      log.append('s1', choice('c')),
    ];
    const settled = await Promise.allSettled(batch);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      if (s.status === 'rejected') expect(String(s.reason)).toContain('disk full');
    }
    expect(seen).toEqual([]);
    expect(await f.store.lastSeq('s1')).toBe(0);
    expect(await f.store.listMessages('s1')).toEqual([]);

    fail = false;
    const r = await log.append('s1', choice('after'), { message: { role: 'user', content: 'again' } });
    expect(r).toMatchObject({ event: { seq: 1 }, message_index: 0 });
    expect(seen.map((e) => e.seq)).toEqual([1]);
  });

  it('an unknown session in a batch fails only its own appends; the other sessions commit', async () => {
    f = await fixture(['s1']);
    const seen: StoredEvent[] = [];
    f.bus.subscribe('s1', (e) => seen.push(e));
    const log = new EventLog(f.store, f.bus);
    const settled = await Promise.allSettled([
      log.append('s1', choice('a'), { message: { role: 'user', content: 'hi' } }),
      log.append('ghost', choice('b')),
      log.append('s1', choice('c')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const ghost = settled[1];
    if (ghost?.status === 'rejected') expect(ghost.reason).toMatchObject({ name: 'TowerError', code: 'unknown_session' });
    expect(seen.map((e) => [e.seq, e.type === 'agent_choice' ? e.data.content : e.type])).toEqual([
      [1, 'a'],
      [2, 'c'],
    ]);
    expect(await f.store.listMessages('s1')).toHaveLength(1);
  });

  it('a stale compare-and-set fails only its own append; the same session\'s other appends in the batch commit', async () => {
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus);
    const settled = await Promise.allSettled([
      log.append('s1', choice('a')),
      log.append('s1', choice('stale'), { state: { q: 'x' }, expect_state: { q: 'not what it holds' } }),
      log.append('s2', choice('other')),
      log.append('s1', choice('c')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const stale = settled[1];
    if (stale?.status === 'rejected') expect(stale.reason).toMatchObject({ code: 'conflict', details: { session_id: 's1', key: 'q' } });
    const events = await f.store.readEvents('s1', 0, 10);
    expect(events.map((e) => (e.type === 'agent_choice' ? e.data.content : e.type))).toEqual(['a', 'c']);
    expect(await f.store.getState('s1', 'q')).toBeUndefined();
  });

  it('an append that lands after its session\'s delete in the same batch is refused alone; the delete commits', async () => {
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus);
    const settled = await Promise.allSettled([
      log.append('s1', choice('before')),
      log.append('s1', { type: 'session_deleted', data: {} }, { delete_session: true }),
      log.append('s1', choice('too late')),
      log.append('s2', choice('other')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const late = settled[2];
    if (late?.status === 'rejected') expect(late.reason).toMatchObject({ code: 'unknown_session' });
    expect(await f.store.getSession('s1')).toBeUndefined();
    expect(await f.store.lastSeq('s2')).toBe(1);
  });

  it('passes effects through and stamps an ISO timestamp at append time', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const before = Date.now();
    const a = await log.append(
      's1',
      { type: 'user_message', data: { content: 'q', message_index: 0 } },
      { message: { role: 'user', content: 'q' }, session: { title: 'T', add_input_tokens: 4 } },
    );
    await log.append('s1', choice('par'), { message: { role: 'assistant', content: 'par', partial: true } });
    await log.append('s1', choice('full'), { replace_last_message: { role: 'assistant', content: 'full' } });
    expect(a.message_index).toBe(0);
    expect(Date.parse(a.event.timestamp)).toBeGreaterThanOrEqual(before);
    expect(a.event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await f.store.listMessages('s1')).map((m) => m.message)).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'full' },
    ]);
    expect(await f.store.getSession('s1')).toMatchObject({ title: 'T', input_tokens: 4, last_event_seq: 3 });
    await log.append('s1', { type: 'session_deleted', data: {} }, { delete_session: true });
    expect(await f.store.getSession('s1')).toBeUndefined();
  });

  it('flush waits for everything appended so far; close refuses later appends', async () => {
    f = await fixture(['s1']);
    const gate = deferred();
    f.store.beforeCommit = () => gate.promise;
    const log = new EventLog(f.store, f.bus);
    let committed = 0;
    for (let i = 0; i < 3; i++) void log.append('s1', choice(String(i))).then(() => committed++);
    let flushed = false;
    const flushing = log.flush().then(() => (flushed = true));
    await nextTick();
    expect(flushed).toBe(false);
    gate.resolve();
    await flushing;
    expect(committed).toBe(3);
    await log.flush();

    await log.close();
    await expect(log.append('s1', choice('late'))).rejects.toMatchObject({ code: 'internal' });
    expect(await f.store.lastSeq('s1')).toBe(3);
  });
});
