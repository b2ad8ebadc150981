import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TowerClient } from '../../src/client/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import { TEST_REDIS_URL } from '../../src/bus/test-redis.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { collectEvents, range, seqs } from '../support/sse.js';

describe.skipIf(NO_POSTGRES)('Tower on Postgres + Redis', () => {
  const schema = uniqueSchema('e2e');
  const storeUrl = `${TEST_PG_URL}?schema=${schema}`;
  const dirs: string[] = [];
  const towers: Tower[] = [];
  const start = (bus: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<Tower> => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-cluster-'));
    dirs.push(dir);
    const config = resolveConfig(
      { host: '127.0.0.1', port: 0, dataDir: dir, workingDir: dir, demo: true, store: storeUrl, ...(bus ? { busUrl: bus } : {}) },
      {},
    );
    return startTower(config, { env, logger: silentLogger });
  };

  beforeAll(assertPostgresReachable);
  afterAll(async () => {
    for (const t of towers.reverse()) await t.close();
    await dropSchema(schema);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs a demo turn; an SSE client on another node sees the whole log', async () => {
    const a = await start(TEST_REDIS_URL);
    towers.push(a);
    const b = await start(TEST_REDIS_URL);
    towers.push(b);
    const onA = new TowerClient({ url: a.url });
    const session = await onA.createSession();
    // Watching from node B, which runs nothing: every event reaches it through Redis or the store.
    const watched = collectEvents(`${b.url}/api/sessions/${session.id}/events?since=0`, {
      until: (e) => e.type === 'stream_stopped',
    });
    await onA.send(session.id, 'hello cluster');
    const events = await watched;
    expect(seqs(events)).toEqual(range(1, events.length));
    expect(events.map((e) => e.type).slice(0, 3)).toEqual(['session_created', 'user_message', 'stream_started']);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
    const stored = await b.store.readEvents(session.id, 0, 10_000);
    expect(seqs(stored)).toEqual(seqs(events));
  });

  it('refuses a node with the in-process bus while other nodes are live, with a clear message', async () => {
    await expect(start(undefined)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('--bus redis://'),
    });
  });

  it('refuses a node whose TOWER_REDIS_PREFIX differs from the live nodes\' (it would not hear them)', async () => {
    await expect(start(TEST_REDIS_URL, { TOWER_REDIS_PREFIX: 'elsewhere' })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/Redis prefix "tower", this one "elsewhere".*TOWER_REDIS_PREFIX/),
    });
  });
});

describe('backend URLs', () => {
  it('rejects a store or bus URL of the wrong kind before opening anything', () => {
    expect(() => resolveConfig({ store: 'mysql://x' }, {})).toThrow(/postgres:\/\//);
    expect(() => resolveConfig({ busUrl: 'http://x' }, {})).toThrow(/redis:\/\//);
    expect(resolveConfig({}, { TOWER_STORE_URL: 'postgres://h/db', TOWER_BUS_URL: 'redis://h' })).toMatchObject({
      storeUrl: 'postgres://h/db',
      busUrl: 'redis://h',
    });
    expect(resolveConfig({}, {}).storeUrl).toBeUndefined();
  });
});
