import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.js';
import { EventLog } from '../../core/event-log/event-log.js';
import { isTowerError } from '../../protocol/errors.js';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import type { CommitEntry } from '../types.js';
import { SqliteStore } from './store.js';

const files = sqliteFiles('tower-writer-');
const open = files.open;
afterEach(files.cleanup);

const batch = (sessionId: string, n: number, from = 0): CommitEntry[] =>
  Array.from({ length: n }, (_, i) => testEntry(sessionId, from + i));

const thread = (store: SqliteStore) => {
  const t = store.writerThread;
  if (!t) throw new Error('no writer thread');
  return t;
};

const failure = async (p: Promise<unknown>): Promise<{ code: string; details: unknown }> => {
  try {
    await p;
  } catch (err) {
    if (isTowerError(err)) return { code: err.code, details: err.details };
    return { code: `not a TowerError: ${String(err)}`, details: undefined };
  }
  return { code: 'ok', details: undefined };
};

describe('SQLite writer thread', () => {
  it('commits a large batch on the thread and the main connection reads it right after', async () => {
    const { store } = open({ writerThread: { minBatch: 64 } });
    await store.createSession(testSessionRecord('s1'));
    const entries = batch('s1', 100);
    entries[10] = testEntry('s1', 10, { message: { role: 'user', content: 'hi' } });
    entries[20] = testEntry('s1', 20, { message: { role: 'assistant', content: 'yo' }, state: { k: 'v' } });
    const results = await store.commit(entries);
    expect(thread(store).commits).toBe(1);
    expect(results.map((r) => r.event.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(results[10]?.message_index).toBe(0);
    expect(results[20]?.message_index).toBe(1);
    expect(results[11]?.message_index).toBeUndefined();
    expect(results[5]?.event).toEqual({ session_id: 's1', seq: 6, type: 'agent_choice', data: { content: 'c5' }, timestamp: entries[5]?.timestamp });
    expect(await store.readEvents('s1', 0, 200)).toEqual(results.map((r) => r.event));
    expect((await store.listMessages('s1')).map((m) => m.message.content)).toEqual(['hi', 'yo']);
    expect(await store.getState('s1', 'k')).toBe('v');
    // A small batch with nothing in flight commits here, on the main connection.
    await store.commit(batch('s1', 3, 100));
    expect(thread(store).commits).toBe(1);
    expect(await store.lastSeq('s1')).toBe(103);
  });

  it('brings typed errors back with their details and writes nothing of a failed batch', async () => {
    const { store } = open({ writerThread: { minBatch: 2 } });
    await store.createSession(testSessionRecord('s1'));
    await store.createSession(testSessionRecord('s2'));
    await store.setState('s2', 'queue', 'a');
    const unknown = await failure(store.commit([...batch('s1', 5), testEntry('ghost', 1)]));
    expect(unknown).toEqual({ code: 'unknown_session', details: { session_id: 'ghost' } });
    const exists = await failure(store.commit([...batch('s1', 5), testEntry('s2', 1, { create_session: testSessionRecord('s2') })]));
    expect(exists).toEqual({ code: 'conflict', details: { session_id: 's2' } });
    const raced = await failure(store.commit([...batch('s1', 5), testEntry('s2', 1, { expect_state: { queue: 'b' } })]));
    expect(raced).toEqual({ code: 'conflict', details: { session_id: 's2', key: 'queue' } });
    const replace = await failure(
      store.commit([...batch('s1', 5), testEntry('s2', 1, { replace_last_message: { role: 'assistant', content: 'x' } })]),
    );
    expect(replace).toEqual({ code: 'invalid_request', details: { session_id: 's2' } });
    expect(await store.lastSeq('s1')).toBe(0);
    expect(await store.lastSeq('s2')).toBe(0);
    expect(thread(store).commits).toBe(0);
  });

  it("isolates a group commit's culprit by the session the thread's error names", async () => {
    const { store } = open({ writerThread: { minBatch: 8 } });
    const bus = new MemoryBus();
    const log = new EventLog(store, bus);
    for (const id of ['s1', 's2']) await store.createSession(testSessionRecord(id));
    // One tick's appends share one batch: s1's and s2's entries with one for a session that is gone.
    const appends = [
      ...Array.from({ length: 20 }, (_, i) => log.append('s1', { type: 'agent_choice', data: { content: `a${i}` } })),
      log.append('ghost', { type: 'agent_choice', data: { content: 'x' } }),
      ...Array.from({ length: 20 }, (_, i) => log.append('s2', { type: 'agent_choice', data: { content: `b${i}` } })),
    ];
    const codes = await Promise.all(appends.map(async (p) => (await failure(p)).code));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(40);
    expect(codes[20]).toBe('unknown_session');
    expect(await store.lastSeq('s1')).toBe(20);
    expect(await store.lastSeq('s2')).toBe(20);
    expect(thread(store).commits).toBeGreaterThanOrEqual(1);
    await log.close();
  });

  it('fails the batches of a thread that dies, starts a new one for the next, and every entry settles', async () => {
    const { store } = open({ writerThread: { minBatch: 64 } });
    await store.createSession(testSessionRecord('s1'));
    await store.commit(batch('s1', 100));
    const inFlight = [store.commit(batch('s1', 100, 100)), store.commit(batch('s1', 3, 200))];
    await thread(store).terminate();
    const outcomes = await Promise.all(inFlight.map(failure));
    // The batch the thread was running may or may not have committed; the error says which code it is.
    for (const o of outcomes) expect(['ok', 'internal']).toContain(o.code);
    expect(thread(store).inFlight).toBe(0);
    const before = (await store.lastSeq('s1')) ?? 0;
    const results = await store.commit(batch('s1', 100, 300));
    expect(results[0]?.event.seq).toBe(before + 1);
    expect(await store.lastSeq('s1')).toBe(before + 100);
    const seqs = (await store.readEvents('s1', 0, 1000)).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: before + 100 }, (_, i) => i + 1));
  });

  it('settles every append of an event log whose thread dies mid-batch', async () => {
    const { store } = open({ writerThread: { minBatch: 8 } });
    const log = new EventLog(store, new MemoryBus());
    await store.createSession(testSessionRecord('s1'));
    const appends = Array.from({ length: 50 }, (_, i) => log.append('s1', { type: 'agent_choice', data: { content: `e${i}` } }));
    // The batch is posted in the drain's tick; the thread is killed as soon as it is in flight.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(thread(store).inFlight).toBe(1);
    await thread(store).terminate();
    const codes = await Promise.all(appends.map(async (p) => (await failure(p)).code));
    for (const c of codes) expect(['ok', 'internal']).toContain(c);
    await log.flush();
    const seqs = (await store.readEvents('s1', 0, 1000)).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    await log.close();
  });

  it('answers a batch the thread committed and died before replying to, from its mark: nothing twice', async () => {
    const { store } = open({ writerThread: { minBatch: 64 } });
    await store.createSession(testSessionRecord('s1'));
    await store.commit(batch('s1', 100));
    thread(store).exitAfterNextCommit();
    const entries = batch('s1', 100, 100);
    entries[7] = testEntry('s1', 107, { message: { role: 'user', content: 'hi' } });
    // The first batch commits and the thread exits without replying; the second never reaches SQLite.
    const [landed, lost] = [store.commit(entries), store.commit(batch('s1', 100, 200))];
    const results = await landed;
    expect(results.map((r) => r.event.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 101));
    expect(results[7]?.message_index).toBe(0);
    expect(results[8]?.message_index).toBeUndefined();
    const second = await failure(lost);
    expect(second.code).toBe('internal');
    expect(thread(store).inFlight).toBe(0);
    expect(await store.lastSeq('s1')).toBe(200);
    // The next batch starts a new thread and continues right after.
    const next = await store.commit(batch('s1', 100, 300));
    expect(next[0]?.event.seq).toBe(201);
    const stored = await store.readEvents('s1', 0, 1000);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const contents = stored.map((e) => (e.data as { content: string }).content);
    expect(new Set(contents).size).toBe(300);
  });

  it('an event log whose thread dies right after a commit settles every append once, none of them twice', async () => {
    const { store } = open({ writerThread: { minBatch: 8 } });
    const log = new EventLog(store, new MemoryBus());
    await store.createSession(testSessionRecord('s1'));
    await store.createSession(testSessionRecord('s2'));
    thread(store).exitAfterNextCommit();
    const appends = Array.from({ length: 50 }, (_, i) => log.append(i % 2 ? 's1' : 's2', { type: 'agent_choice', data: { content: `e${i}` } }));
    const results = await Promise.all(appends);
    await log.flush();
    for (const id of ['s1', 's2']) {
      const stored = await store.readEvents(id, 0, 1000);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      expect(stored).toEqual(results.filter((r) => r.event.session_id === id).map((r) => r.event));
    }
    await log.close();
  });

  it('finishes the batches in flight when the store closes', async () => {
    const { store, path } = open({ writerThread: { minBatch: 64 } });
    await store.createSession(testSessionRecord('s1'));
    const committed = store.commit(batch('s1', 500));
    const queued = store.commit(batch('s1', 2, 500));
    await store.close();
    expect((await committed).length).toBe(500);
    expect((await queued).map((r) => r.event.seq)).toEqual([501, 502]);
    expect((await failure(store.commit(batch('s1', 100, 502)))).code).toBe('internal');
    const again = new SqliteStore(path, { writerThread: false, checkpointer: false });
    files.track(again);
    expect(await again.lastSeq('s1')).toBe(502);
  });

  it("orders the main connection's writes and small commits after the thread's batch in flight", async () => {
    const { store } = open({ writerThread: { minBatch: 64 } });
    await store.createSession(testSessionRecord('s1'));
    await store.setState('s1', 'q', 'a');
    const big = store.commit(batch('s1', 200));
    expect(thread(store).inFlight).toBe(1);
    // Sent behind the big batch (to the thread), not run on the main connection first.
    const small = store.commit([testEntry('s1', 200, { expect_state: { q: 'a' }, state: { q: 'b' } })]);
    const created = store.createSession(testSessionRecord('s2'));
    const cas = store.compareAndSetState('s1', 'q', 'b', 'c');
    expect((await big).length).toBe(200);
    expect((await small)[0]?.event.seq).toBe(201);
    await created;
    // The compare-and-set waited for the thread's batches, so it saw the small commit's write.
    expect(await cas).toBe(true);
    expect(await store.getState('s1', 'q')).toBe('c');
    await store.commit(batch('s2', 100));
    expect(await store.lastSeq('s2')).toBe(100);
  });

  it("starts the thread after the store's first commit, not at open", async () => {
    const { store } = open();
    await store.createSession(testSessionRecord('s1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(thread(store).running).toBe(false);
    await store.commit(batch('s1', 3));
    // The start is one macrotask after that commit: this one, queued later, runs after it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(thread(store).running).toBe(true);
    await thread(store).ready();
    expect(thread(store).commits).toBe(0);
    expect((await store.commit(batch('s1', 300, 3))).at(-1)?.event.seq).toBe(303);
    expect(thread(store).commits).toBe(1);
  });

  it("starts the thread when the store opens with prestart 'open', so the first large batch finds it up", async () => {
    const { store } = open({ writerThread: { prestart: 'open' } });
    // The store's start is one macrotask after the open: this one, queued later, runs after it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(thread(store).running).toBe(true);
    await thread(store).ready();
    expect(thread(store).commits).toBe(0);
    await store.createSession(testSessionRecord('s1'));
    expect((await store.commit(batch('s1', 300))).at(-1)?.event.seq).toBe(300);
    expect(thread(store).commits).toBe(1);
  });

  it('starts the thread on the first batch that needs it when prestart is off', async () => {
    const { store } = open({ writerThread: { prestart: false } });
    await store.createSession(testSessionRecord('s1'));
    await new Promise((resolve) => setImmediate(resolve));
    await store.commit(batch('s1', 3));
    expect(thread(store).running).toBe(false);
    await store.commit(batch('s1', 300, 3));
    expect(thread(store).running).toBe(true);
    expect(thread(store).commits).toBe(1);
  });

  it('closes a store right after opening it, whether or not its thread has started', async () => {
    const { store, path } = open({ writerThread: { prestart: 'open' } });
    await store.close();
    expect(thread(store).running).toBe(false);
    const started = open();
    await thread(started.store).ready();
    await started.store.close();
    expect(thread(started.store).running).toBe(false);
    // Neither left a connection or a lock behind: the file opens and takes a thread batch.
    const again = files.track(new SqliteStore(path));
    await again.createSession(testSessionRecord('s1'));
    expect((await again.commit(batch('s1', 300))).length).toBe(300);
  });

  it('sends small commits of many sessions to the thread while the loop is saturated, and keeps a serial writer inline', async () => {
    const load = { value: 0.9, load: () => load.value };
    const { store } = open({ writerThread: { load, minSessions: 3 } });
    await thread(store).ready();
    for (const id of ['s1', 's2', 's3']) await store.createSession(testSessionRecord(id));
    // One session (a serial writer, a one-turn burst): inline whatever the load.
    await store.commit(batch('s1', 1));
    await store.commit(batch('s1', 20, 1));
    expect(thread(store).commits).toBe(0);
    const wide = [testEntry('s1', 21), testEntry('s2', 0), testEntry('s3', 0)];
    const results = await store.commit(wide);
    expect(thread(store).commits).toBe(1);
    expect(results.map((r) => r.event.seq)).toEqual([22, 1, 1]);
    // The loop calms down: the same shape commits here again.
    load.value = 0.1;
    await store.commit([testEntry('s1', 22), testEntry('s2', 1), testEntry('s3', 1)]);
    expect(thread(store).commits).toBe(1);
    expect(await store.lastSeq('s1')).toBe(23);
    const seqs = (await store.readEvents('s1', 0, 100)).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  });

  it('has no thread for memory stores or when turned off', () => {
    expect(new SqliteStore(':memory:').writerThread).toBeUndefined();
    expect(open({ writerThread: false }).store.writerThread).toBeUndefined();
  });
});
