import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { isTowerError } from '../../protocol/errors.js';
import { PostgresStore } from './store.js';
import { commitCutter, type CommitCutter } from './test-cutter.js';
import { NO_POSTGRES, assertPostgresReachable, dropSchema, uniqueSchema, withSchemaClient } from './test-db.js';

describe.skipIf(NO_POSTGRES)('Postgres commit marks', () => {
  const schema = uniqueSchema('marks');
  beforeAll(assertPostgresReachable);
  afterAll(() => dropSchema(schema));

  /** Runs `test` on a store behind a fresh cutter, with session `id` created and holding one event. */
  async function behindCutter(id: string, test: (store: PostgresStore, proxy: CommitCutter) => Promise<void>): Promise<void> {
    const proxy = await commitCutter();
    const store = await PostgresStore.open(proxy.url, { schema, max: 4 });
    try {
      await store.createSession(testSessionRecord(id));
      await store.commit([testEntry(id, 0)]);
      await test(store, proxy);
    } finally {
      await store.close();
      await proxy.close();
    }
  }

  it('answers a commit whose COMMIT landed and whose answer was lost: a retry never stores it twice', async () => {
    await behindCutter('s1', async (store, proxy) => {
      const entries = Array.from({ length: 25 }, (_, i) => testEntry('s1', 1 + i));
      proxy.arm();
      // What group commit does with a failed batch: commit it again. Without the mark, the first call
      // fails although its COMMIT landed, and the retry stores the 25 events a second time.
      const results = await store.commit(entries).catch(() => store.commit(entries));
      expect(proxy.cuts()).toBe(1);
      expect(results.map((r) => r.event.seq)).toEqual(Array.from({ length: 25 }, (_, i) => 2 + i));
      expect(await store.lastSeq('s1')).toBe(26);
      const events = await store.readEvents('s1', 0, 100);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 26 }, (_, i) => 1 + i));
      expect(new Set(events.map((e) => JSON.stringify(e.data))).size).toBe(26);
      // The next commit goes on right after, on a new connection.
      expect((await store.commit([testEntry('s1', 99)]))[0]?.event.seq).toBe(27);
    });
    // Answered marks are pruned as commits go, and the rest at close.
    const left = await withSchemaClient(schema, async (c) => (await c.query('SELECT count(*)::int AS n FROM commit_marks')).rows[0]?.n);
    expect(left).toBe(0);
  });

  it('fails a commit whose outcome cannot be known with commit_outcome_unknown, not a code that is retried', async () => {
    await behindCutter('s2', async (store, proxy) => {
      const entries = Array.from({ length: 5 }, (_, i) => testEntry('s2', 1 + i));
      // The COMMIT lands, its answer is lost, and Postgres is unreachable when the mark is looked up.
      proxy.arm({ down: true });
      const err = await store.commit(entries).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(proxy.cuts()).toBe(1);
      expect(isTowerError(err) ? err.code : err).toBe('commit_outcome_unknown');
      // It had landed: stored once, and group commit (group-commit.test.ts) does not commit it again.
      proxy.up();
      expect(await store.lastSeq('s2')).toBe(6);
      expect((await store.readEvents('s2', 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await store.commit([testEntry('s2', 99)]))[0]?.event.seq).toBe(7);
    });
  });
});
