import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniquePrefix } from '../../src/bus/test-redis.js';
import { startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';
import type { StoredEvent } from '../../src/protocol/events.js';
import type { Tower } from '../../src/server/tower.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { runnersTransport } from '../../src/transports/runners/index.js';
import { startNodes } from '../support/cluster.js';
import { waitFor } from '../support/wait.js';

/**
 * Two clusters (each its own Postgres schema) on one Redis, told apart by TOWER_REDIS_PREFIX: every key and
 * channel of a node is under its cluster's prefix, so neither hears the other's session events or runners.
 */
describe.skipIf(NO_POSTGRES)('two clusters on one Redis with their own TOWER_REDIS_PREFIX', () => {
  const schemas = [uniqueSchema('pfx1'), uniqueSchema('pfx2')];
  const prefixes = [uniquePrefix('one'), uniquePrefix('two')];
  const clusters: Array<Awaited<ReturnType<typeof startNodes>>> = [];
  let fake: FakeModelServer;
  let redis: Redis;

  beforeAll(async () => {
    await assertPostgresReachable();
    fake = await startFakeModelServer({ format: 'openai', script: [] });
    redis = new Redis(TEST_REDIS_URL);
    for (const i of [0, 1]) {
      clusters.push(
        await startNodes(1, {
          storeUrl: `${TEST_PG_URL}?schema=${schemas[i]}`,
          busUrl: TEST_REDIS_URL,
          fake,
          env: { TOWER_REDIS_PREFIX: prefixes[i] as string, TOWER_RUNNER_PRESENCE_MS: '100' },
          transports: () => [runnersTransport({})],
        }),
      );
    }
  });
  afterAll(async () => {
    for (const c of clusters) await c.close();
    redis?.disconnect();
    await fake?.close();
    for (const s of schemas) await dropSchema(s);
  });

  it('keeps each node\'s node channel and runner presence under its own prefix', async () => {
    for (const p of prefixes) {
      await waitFor(async () => (await redis.smembers(`${p}:runner-nodes`)).length === 1);
      const [node] = await redis.smembers(`${p}:runner-nodes`);
      expect(await redis.exists(`${p}:runners:${node}`)).toBe(1);
      expect(await redis.pubsub('CHANNELS', `${p}:node:*`)).toEqual([`${p}:node:${node}`]);
    }
  });

  it('a session with the same id in both clusters gets only its own cluster\'s events', async () => {
    const [one, two] = clusters.map((c) => c.nodes[0]) as [Tower, Tower];
    const session = await one.manager.create({ title: 'shared id' });
    await two.manager.import(await one.manager.export(session.id));
    const since = (await one.manager.get(session.id)).last_event_seq;
    const sub = await one.manager.subscribe(session.id, since);
    expect(await redis.pubsub('CHANNELS', `${prefixes[0]}:session:*`)).toEqual([`${prefixes[0]}:session:${session.id}`]);
    // The other cluster's copy changes first; were the channel shared, its event would come first here
    // (with the seq this cluster's own change then gets).
    await two.manager.update(session.id, { title: 'from two' });
    await one.manager.update(session.id, { title: 'from one' });
    const seen: StoredEvent[] = [];
    try {
      for await (const batch of sub) {
        seen.push(...batch);
        if (seen.some((e) => JSON.stringify(e.data).includes('from'))) break;
      }
    } finally {
      sub.close();
    }
    const titles = seen.map((e) => JSON.stringify(e.data)).filter((d) => d.includes('from'));
    expect(titles).toHaveLength(1);
    expect(titles[0]).toContain('from one');
  });
});
