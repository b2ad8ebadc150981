import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import type { Store } from '../../store/types.js';
import { TowerError } from '../../protocol/errors.js';
import { QUEUE_CHANGE_ATTEMPTS, SessionQueues, isQueueConflict, type QueueSet } from './queues.js';

let store: Store;
afterEach(() => store.close());

async function setup(): Promise<SessionQueues> {
  store = openSqliteStore(':memory:');
  for (const id of ['a', 'b']) await store.createSession(testSessionRecord(id));
  return new SessionQueues(store);
}

describe('SessionQueues memory and durable state', () => {
  it('keeps a copy while pinned, evicts it once idle, and reloads it from the store', async () => {
    const queues = await setup();
    const release = queues.pin('a');
    const set = await queues.load('a');
    expect(queues.cached).toBe(1);
    expect(await queues.load('a')).toBe(set);
    release();
    expect(queues.cached).toBe(0);
    await queues.use('b', async () => expect(queues.cached).toBe(1));
    expect(queues.cached).toBe(0);
  });

  it('keeps a copy with queued items after its users leave (it has work to deliver)', async () => {
    const queues = await setup();
    await queues.use('a', (set) => {
      set.followup.push(...SessionQueues.newItems(['later']));
    });
    expect(queues.cached).toBe(1);
    await queues.use('a', (set) => {
      set.followup.splice(0);
    });
    expect(queues.cached).toBe(0);
  });

  it('parses stored JSON with its schema: junk reads as empty, legacy bare keys are accepted', async () => {
    const queues = await setup();
    await store.setState('a', 'queue:steer', '{"not": "a list"}');
    await store.setState('a', 'queue:followup', 'not json');
    await store.setState('a', 'idempotency_keys', '["old-key", {"key": "new", "fingerprint": "f"}]');
    const set = await queues.use('a', (s) => s);
    expect(set.steer).toEqual([]);
    expect(set.followup).toEqual([]);
    expect(set.keys).toEqual([{ key: 'old-key' }, { key: 'new', fingerprint: 'f' }]);
  });

  it('lists only sessions with queued work, in one store query', async () => {
    await setup();
    await store.setState('b', 'queue:followup', '[]');
    await store.setState('a', 'idempotency_keys', '[]');
    expect(await SessionQueues.pendingSessions(store)).toEqual(['b']);
  });
});

/** Commits a follow-up enqueue the way SessionControl does: state and guard in one commit entry. */
async function enqueue(queues: SessionQueues, set: QueueSet, content: string): Promise<void> {
  const [item] = SessionQueues.newItems([content]);
  set.followup.push(item!);
  await queues.commit(
    set,
    ['followup'],
    (effects) => store.commit([{ session_id: 'a', type: 'message_queued', data: {}, timestamp: new Date().toISOString(), ...effects }]),
    () => set.followup.splice(set.followup.indexOf(item!), 1),
  );
}

describe('SessionQueues compare-and-set writes', () => {
  it('a write carries the rows it replaces; writes in flight on one node expect each other', async () => {
    const queues = await setup();
    const set = await queues.load('a');
    const first = queues.guard(set, ['followup']);
    expect(first.expect_state).toEqual({ 'queue:followup': null });
    set.followup.push(...SessionQueues.newItems(['x']));
    const second = queues.guard(set, ['followup', 'keys']);
    expect(second.expect_state).toEqual({ 'queue:followup': first.state['queue:followup'], idempotency_keys: null });
    expect(() => queues.guard({ steer: [], followup: [], keys: [] }, ['steer'])).toThrow(/not loaded/);
  });

  it("another node's write fails this node's next one as a queue conflict, and nothing is overwritten", async () => {
    const queues = await setup();
    const other = new SessionQueues(store);
    const mine = await queues.load('a');
    const theirs = await other.load('a');
    await enqueue(other, theirs, 'from the other node');
    const err = await enqueue(queues, mine, 'from this node').then(() => undefined, (e: unknown) => e);
    expect(isQueueConflict(err)).toBe(true);
    expect((err as TowerError).details).toMatchObject({ session_id: 'a', key: 'queue:followup' });
    expect(mine.followup).toEqual([]); // rolled back
    const stored = JSON.parse((await store.getState('a', 'queue:followup'))!) as Array<{ content: string }>;
    expect(stored.map((i) => i.content)).toEqual(['from the other node']);
    expect(isQueueConflict(new TowerError('conflict', 'session exists', { session_id: 'a' }))).toBe(false);
  });

  it('change() reloads the copy in place after a conflict and runs the operation again', async () => {
    const queues = await setup();
    const other = new SessionQueues(store);
    queues.pin('a'); // held (a running turn holds its copy), so the reload must update this very object
    const mine = await queues.load('a');
    await enqueue(other, await other.load('a'), 'one');
    let runs = 0;
    await queues.change('a', async (set) => {
      runs += 1;
      expect(set).toBe(mine); // every holder sees the reload
      await enqueue(queues, set, 'two');
    });
    expect(runs).toBe(2);
    expect(mine.followup.map((i) => i.content)).toEqual(['one', 'two']);
    const stored = JSON.parse((await store.getState('a', 'queue:followup'))!) as Array<{ content: string }>;
    expect(stored.map((i) => i.content)).toEqual(['one', 'two']);
  });

  it('gives up after a bounded number of conflicts with the conflict itself', async () => {
    const queues = await setup();
    const other = new SessionQueues(store);
    let runs = 0;
    const err = await queues
      .change('a', async (set) => {
        runs += 1;
        // Another node writes between every reload and this node's write.
        await enqueue(other, await other.load('a'), `theirs ${runs}`);
        await other.reload('a');
        await enqueue(queues, set, `mine ${runs}`);
      })
      .then(() => undefined, (e: unknown) => e);
    expect(runs).toBe(QUEUE_CHANGE_ATTEMPTS);
    expect(isQueueConflict(err)).toBe(true);
    const stored = JSON.parse((await store.getState('a', 'queue:followup'))!) as Array<{ content: string }>;
    expect(stored.map((i) => i.content)).toEqual(Array.from({ length: QUEUE_CHANGE_ATTEMPTS }, (_, i) => `theirs ${i + 1}`));
  });

  it('a failed write that is not a conflict rolls back and expects the old rows again', async () => {
    const queues = await setup();
    const set = await queues.load('a');
    await expect(
      queues.commit(set, ['followup'], () => Promise.reject(new TowerError('internal', 'disk full')), () => undefined),
    ).rejects.toThrow('disk full');
    expect(queues.guard(set, ['followup']).expect_state).toEqual({ 'queue:followup': null });
  });
});
