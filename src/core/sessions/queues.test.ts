import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import type { Store } from '../../store/types.js';
import { SessionQueues } from './queues.js';

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
