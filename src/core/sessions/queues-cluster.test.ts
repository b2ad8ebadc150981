import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.js';
import { PostgresStore } from '../../store/postgres/store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../store/postgres/test-db.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { EventLog } from '../event-log/index.js';
import { silentLogger } from '../logger.js';
import { FakeExecutor, FakeStepper, finish } from '../testing/fakes.js';
import { InProcessSessionClaim, type SessionClaim } from './claim.js';
import { SessionManager } from './session-manager.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One node: its own store connection, event log and manager; the claim is the cluster's. */
function node(store: Store, claims: SessionClaim, workingDir: string): SessionManager {
  const log = new EventLog(store, new MemoryBus());
  const manager = new SessionManager({
    store, log, logger: silentLogger, claims,
    stepper: new FakeStepper(() => [{ type: 'text', delta: 'ok' }, finish]),
    executor: new FakeExecutor(),
    models: { has: () => true, list: () => [], cost: () => 0 },
    defaults: { workingDir, model: 'fake/m', maxIterations: 3, permissions: { allow: [], ask: [], deny: [], policy: 'autonomous', auto_approve: false } },
  });
  cleanups.push(async () => {
    await manager.shutdown();
    await log.close();
  });
  return manager;
}

async function race(stores: [Store, Store]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-cluster-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const claims = new InProcessSessionClaim(); // stands in for the cluster's lease: one turn per session
  const nodes = [node(stores[0], claims, dir), node(stores[1], claims, dir)] as const;
  const session = await nodes[0].create({ title: 'race' });

  // Both nodes take follow-ups for the same session at once, interleaved, while turns start and end.
  const PER_NODE = 8;
  const accepted = await Promise.all(
    Array.from({ length: PER_NODE * 2 }, (_, i) => nodes[i % 2]!.control.followup(session.id, [`n${i % 2} #${i}`])),
  );
  const ids = accepted.flatMap((a) => a.item_ids);
  expect(ids).toHaveLength(PER_NODE * 2);
  expect(new Set(ids).size).toBe(ids.length);

  // Deliver what is left: a node only learns of the other's items when a write of its own conflicts.
  for (let round = 0; round < 50; round++) {
    for (const n of nodes) await n.waitIdle(session.id, 5000);
    if ((await stores[0].getState(session.id, 'queue:followup')) === undefined) break;
    for (const n of nodes) await n.turns.drain(session.id);
  }
  for (const n of nodes) await n.waitIdle(session.id, 5000);

  const events = await stores[0].readEvents(session.id, 0, 100_000);
  const delivered = events.flatMap((e) => (e.type === 'user_message' && typeof e.data.queue_item_id === 'string' ? [e.data.queue_item_id] : []));
  const queued = events.flatMap((e) => (e.type === 'message_queued' && typeof e.data.item_id === 'string' ? [e.data.item_id] : []));
  expect([...queued].sort()).toEqual([...ids].sort()); // every accepted item announced once
  expect([...delivered].sort()).toEqual([...ids].sort()); // and delivered once: none lost, none twice
  expect(await stores[0].getState(session.id, 'queue:followup')).toBeUndefined();
  expect(events.filter((e) => e.type === 'stream_started')).toHaveLength(ids.length);
}

describe('follow-ups from two nodes on one database', () => {
  it('SQLite file: none is lost or duplicated', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-cluster-db-'));
    const file = path.join(dir, 'tower.db');
    const stores: [Store, Store] = [openSqliteStore(file), openSqliteStore(file)];
    cleanups.push(async () => {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await race(stores);
  });

  describe.skipIf(NO_POSTGRES)('Postgres', () => {
    beforeAll(assertPostgresReachable);

    it('none is lost or duplicated', async () => {
      const schema = uniqueSchema('queues');
      const stores: [Store, Store] = [
        await PostgresStore.open(TEST_PG_URL, { schema, max: 4 }),
        await PostgresStore.open(TEST_PG_URL, { schema, max: 4 }),
      ];
      cleanups.push(async () => {
        for (const s of stores) await s.close();
        await dropSchema(schema);
      });
      await race(stores);
    });
  });
});
