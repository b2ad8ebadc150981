import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStoreConformance, testEntry, testSessionRecord } from '../conformance.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { Store } from '../types.js';
import { PG_MIGRATIONS } from './migrations.js';
import { heartbeatNode, liveNodes } from './nodes.js';
import { PostgresStore } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from './test-db.js';

const schemas = new Map<Store, string>();

async function openFresh(): Promise<PostgresStore> {
  const schema = uniqueSchema('conf');
  const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
  schemas.set(store, schema);
  return store;
}

describe.skipIf(NO_POSTGRES)('PostgresStore', () => {
  beforeAll(assertPostgresReachable);

  describeStoreConformance('postgres', openFresh, {
    cleanup: async (store) => {
      await store.close();
      const schema = schemas.get(store);
      if (schema) await dropSchema(schema);
    },
    reopen: async (closed) => {
      const schema = schemas.get(closed) as string;
      const again = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
      schemas.set(again, schema);
      return again;
    },
    // Another node on the same schema; the test closes it, the first store's cleanup drops the schema.
    sameDatabase: (first) => PostgresStore.open(TEST_PG_URL, { schema: schemas.get(first) as string, max: 4 }),
    buildsFrames: true,
  });

  it('writes each event its splice flag (migration 138), by commit and import, and forgets it on a rewrite', async () => {
    const store = await openFresh();
    const schema = schemas.get(store) as string;
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    try {
      await store.createSession(testSessionRecord('a'));
      await store.commit([testEntry('a', 1), { ...testEntry('a', 2), data: { content: 'x', seq: 'clash' } }, { ...testEntry('a', 3), data: { p: { type: 'nested' } } }]);
      await store.importSession(testSessionRecord('i'), [], [{ session_id: 'i', seq: 4, type: 'agent_choice', data: { content: 'c', type: 'clash' }, timestamp: 't' } as StoredEvent]);
      const flags = async () =>
        (await client.query<{ splice: boolean | null }>(`SELECT splice FROM ${schema}.events ORDER BY session_id, seq`)).rows.map((r) => r.splice);
      expect(await flags()).toEqual([true, false, true, false]);
      await client.query(`UPDATE ${schema}.events SET data = '{"content":"new"}' WHERE session_id = 'a' AND seq = 1`);
      expect(await flags()).toEqual([null, false, true, false]);
    } finally {
      await client.end();
      await store.close();
      await dropSchema(schema);
    }
  });

  describe('text PostgreSQL cannot hold as is', () => {
    it('round-trips NUL and the escape marker in titles, working dirs, models and state values', async () => {
      const store = await openFresh();
      try {
        const odd = ['a\u0000b', '\u0001starts with the marker', '\u0001"looks escaped"', 'plain', ''];
        for (const [i, text] of odd.entries()) {
          const id = `s${i}`;
          await store.createSession(testSessionRecord(id, { title: text, working_dir: `/w/${text}`, model: text }));
          expect(await store.getSession(id)).toMatchObject({ title: text, working_dir: `/w/${text}`, model: text });
          await store.commit([{ ...testEntry(id, 1), session: { title: `${text}!` }, state: { k: text } }]);
          expect((await store.getSession(id))?.title).toBe(`${text}!`);
          expect(await store.getState(id, 'k')).toBe(text);
          expect(await store.compareAndSetState(id, 'k', text, `${text}2`)).toBe(true);
          await store.commit([{ ...testEntry(id, 2), expect_state: { k: `${text}2` } }]);
          await store.setState(id, 'k', text);
          expect(await store.getState(id, 'k')).toBe(text);
        }
      } finally {
        await store.close();
        await dropSchema(schemas.get(store) as string);
      }
    });
  });

  describe('cluster semantics', () => {
    const schema = uniqueSchema('cluster');
    const stores: PostgresStore[] = [];
    afterAll(async () => {
      for (const s of stores) await s.close();
      await dropSchema(schema);
    });

    it('migrates once when several nodes start at the same moment', async () => {
      stores.push(...(await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(TEST_PG_URL, { schema, max: 4 })))));
      const { rows } = await (stores[0] as PostgresStore).pool.query<{ version: number }>('SELECT version FROM schema_migrations');
      expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
    });

    it('two store instances committing to one session concurrently never duplicate or skip a seq', async () => {
      const [a, b] = stores as [PostgresStore, PostgresStore];
      await a.createSession(testSessionRecord('shared'));
      await a.createSession(testSessionRecord('other'));
      const rounds = 40;
      const work = (s: PostgresStore, tag: number) =>
        Promise.all(
          Array.from({ length: rounds }, (_, i) =>
            s.commit([testEntry('shared', tag * 1000 + i), testEntry(i % 2 ? 'other' : 'shared', i), testEntry('shared', i)]),
          ),
        );
      const [ra, rb] = await Promise.all([work(a, 1), work(b, 2)]);
      const seqs = [...ra, ...rb]
        .flat()
        .filter((r) => r.event.session_id === 'shared')
        .map((r) => r.event.seq)
        .sort((x, y) => x - y);
      const total = rounds * 2 * 2 + rounds; // two 'shared' per commit, plus the even rounds' middle entry
      expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect((await b.readEvents('shared', 0, 10_000)).map((e) => e.seq)).toEqual(seqs);
      expect(await a.lastSeq('shared')).toBe(total);
    });

    it('records nodes by heartbeat; only recent ones count as present', async () => {
      const s = stores[0] as PostgresStore;
      await heartbeatNode(s, 'node-a', 'redis');
      await heartbeatNode(s, 'node-b', 'memory');
      await s.pool.query(`UPDATE nodes SET heartbeat_at = now() - interval '1 minute' WHERE id = 'node-b'`);
      expect(await liveNodes(s, 'node-c')).toEqual([{ id: 'node-a', bus: 'redis' }]);
      expect(await liveNodes(s, 'node-a')).toEqual([]);
    });
  });
});

describe.runIf(NO_POSTGRES)('PostgresStore (opted out)', () => {
  it('is skipped on purpose: TOWER_TEST_NO_POSTGRES=1', () => {
    expect(NO_POSTGRES).toBe(true);
  });
});
