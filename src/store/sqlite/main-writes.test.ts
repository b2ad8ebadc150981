import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { NewThreadMessage } from '../../protocol/messaging.js';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import type { SqliteStore } from './store.js';
import { lockIdleTruncate } from './testing/idle-lock.js';

const files = sqliteFiles('tower-mainw-');
afterEach(files.cleanup);

const post = (content: string) => NewThreadMessage.parse({ content, from_type: 'human', from_id: 'h', to_type: 'broadcast', to_id: '', kind: 'status' });
const token = (id: string) => ({ id, name: id, labels: [], token_hash: `hash-${id}`, created_at: '2026-01-01T00:00:00.000Z' });

/** Writes on the store's own connection other than `commit`, each after `prepare` (run before the lock). */
const writes: Array<[string, (s: SqliteStore) => Promise<unknown>]> = [
  ['createThread', (s) => s.messaging.createThread({ id: 'new', title: 'N' })],
  ['postThreadMessage', (s) => s.messaging.postThreadMessage('t', post('hello'))],
  ['setThreadStatus', (s) => s.messaging.setThreadStatus('t', 'paused')],
  ['insertInboxMessage', (s) => s.messaging.insertInboxMessage({ from_agent: 'a', to_inbox: 'b', message_type: 'notification', title: 'x' })],
  ['setInboxStatus', async (s) => s.messaging.setInboxStatus((await s.messaging.listInbox('me', { limit: 1 }))[0]!.id, 'read')],
  ['setAck', (s) => s.messaging.setAck('client', { thread_id: 't' }, 1)],
  ['createRunnerToken', (s) => s.runnerTokens().createRunnerToken(token('r2'))],
  ['revokeRunnerToken', (s) => s.runnerTokens().revokeRunnerToken('r1', '2026-01-02T00:00:00.000Z')],
  ['createSession', (s) => s.createSession(testSessionRecord('s2'))],
  ['setState', (s) => s.setState('s1', 'k', 'v')],
  ['compareAndSetState', (s) => s.compareAndSetState('s1', 'k', undefined, 'v')],
];

async function prepare(store: SqliteStore): Promise<void> {
  await store.createSession(testSessionRecord('s1'));
  await store.commit([testEntry('s1', 0)]);
  await store.messaging.createThread({ id: 't', title: 'T' });
  await store.messaging.insertInboxMessage({ from_agent: 'x', to_inbox: 'me', message_type: 'notification', title: 'y' });
  await store.runnerTokens().createRunnerToken(token('r1'));
}

/** The write's outcome: its value, or the failure's message (a TowerError's code first). */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: unknown) => (isTowerError(err) ? `${err.code}: ${err.message}` : String(err)),
  );

describe('writes on the main connection, other than commits', () => {
  // A short busy_timeout: a write that waits in the busy handler on this thread cannot be rescued by the
  // loop (the lock's release is a loop callback): it fails with `database is locked`.
  describe.each([25, 0])('while the idle TRUNCATE holds the write lock (hold %i ms)', (maxHoldMs) => {
    it.each(writes)('%s waits for it as a promise, not in the busy handler', async (_name, write) => {
      const { store, path } = files.open({ busyTimeoutMs: 300, checkpointer: { intervalMs: 5, maxHoldMs }, writerThread: { prestart: 'open' } });
      await prepare(store);
      const lock = lockIdleTruncate(store, path);
      try {
        await lock.started;
        const order: string[] = [];
        lock.releaseNextTurn(order);
        const result = await outcome(write(store).finally(() => order.push('write')));
        expect(result).toBe('ok');
        // Issued while the lock was held, it ran after the loop callback that released it.
        expect(order).toEqual(['loop', 'write']);
      } finally {
        lock.restore();
      }
    });
  });

  it.each(writes)('%s waits for the writer thread\'s batches in flight, not in the busy handler', async (_name, write) => {
    // Every commit goes to the thread (minBatch 1); another connection's lock keeps its batch in flight.
    const { store, path } = files.open({ busyTimeoutMs: 300, checkpointer: false, writerThread: { prestart: 'open', minBatch: 1 } });
    await prepare(store);
    await store.writerThread?.ready();
    const lock = new Database(path);
    try {
      lock.prepare('BEGIN IMMEDIATE').run();
      const order: string[] = [];
      const batch = store.commit([testEntry('s1', 1)]).then(() => order.push('batch'));
      expect(store.writerThread?.inFlight).toBe(1);
      setImmediate(() => {
        order.push('loop');
        lock.prepare('COMMIT').run();
      });
      const result = await outcome(write(store).finally(() => order.push('write')));
      await batch;
      expect(result).toBe('ok');
      expect(order).toEqual(['loop', 'batch', 'write']);
    } finally {
      lock.close();
    }
  });

  it('keeps call order among writes that wait, and with one issued after them', async () => {
    const { store, path } = files.open({ busyTimeoutMs: 300, checkpointer: { intervalMs: 5, maxHoldMs: 0 }, writerThread: { prestart: 'open' } });
    await prepare(store);
    const lock = lockIdleTruncate(store, path);
    try {
      await lock.started;
      const m = store.messaging;
      const posts = [m.postThreadMessage('t', post('a')), m.postThreadMessage('t', post('b'))];
      setImmediate(() => lock.release());
      posts.push(m.postThreadMessage('t', post('c')));
      const seqs = (await Promise.all(posts)).map((r) => [r.message.content, r.message.message_seq]);
      expect(seqs).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    } finally {
      lock.restore();
    }
  });
});
