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
import { FakeExecutor, FakeStepper, finish, type FakeStep } from '../testing/fakes.js';
import type { SessionClaim } from './claim.js';
import { SessionManager } from './session-manager.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Stands in for the cluster's lease: one turn per session across the nodes, and each node's view tells
 * whether another node holds a session (so queued work there is the holder's to deliver).
 */
class SharedClaim {
  private readonly holders = new Map<string, { node: number; owner: string }>();

  view(node: number): SessionClaim {
    return {
      claim: async (id, owner) => {
        const h = this.holders.get(id);
        if (h && (h.node !== node || h.owner !== owner)) return false;
        this.holders.set(id, { node, owner });
        return true;
      },
      release: async (id, owner) => {
        const h = this.holders.get(id);
        if (h?.node === node && h.owner === owner) this.holders.delete(id);
      },
      heldElsewhere: async (id) => {
        const h = this.holders.get(id);
        return h !== undefined && h.node !== node;
      },
    };
  }
}

/** One node: its own store connection, event log and manager; the claim and the bus are the cluster's. */
function node(store: Store, claims: SessionClaim, workingDir: string, bus: MemoryBus, step: FakeStep = () => [{ type: 'text', delta: 'ok' }, finish]): SessionManager {
  const log = new EventLog(store, bus);
  const manager = new SessionManager({
    store, log, logger: silentLogger, claims,
    stepper: new FakeStepper(step),
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
  const claims = new SharedClaim();
  const bus = new MemoryBus();
  const nodes = [node(stores[0], claims.view(0), dir, bus), node(stores[1], claims.view(1), dir, bus)] as const;
  const session = await nodes[0].create({ title: 'race' });
  const sub = await nodes[0].subscribe(session.id, 0);
  cleanups.push(() => sub.close());

  // Both nodes take follow-ups for the same session at once, interleaved, while turns start and end.
  const PER_NODE = 8;
  const accepted = await Promise.all(
    Array.from({ length: PER_NODE * 2 }, (_, i) => nodes[i % 2]!.control.followup(session.id, [`n${i % 2} #${i}`])),
  );
  const ids = accepted.flatMap((a) => a.item_ids);
  expect(ids).toHaveLength(PER_NODE * 2);
  expect(new Set(ids).size).toBe(ids.length);

  // Nobody drains by hand: each turn's end reads the queue from the store, so the other node's items
  // are delivered too, one turn each.
  let stopped = 0;
  for await (const batch of sub) {
    stopped += batch.filter((e) => e.type === 'stream_stopped').length;
    if (stopped >= ids.length) break;
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

/** Turns on node A wait for `open` before answering; node B queues while one runs there. */
async function queuedElsewhere(stores: [Store, Store]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-cluster-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held: FakeStep = async function* () {
    await opened;
    yield { type: 'text', delta: 'ok' };
    yield finish;
  };
  const claims = new SharedClaim();
  const bus = new MemoryBus();
  const a = node(stores[0], claims.view(0), dir, bus, held);
  const b = node(stores[1], claims.view(1), dir, bus);
  const session = await a.create({ title: 'elsewhere' });
  const sub = await a.subscribe(session.id, 0);
  cleanups.push(() => sub.close());
  await a.send(session.id, 'first, on a');
  // Something on a holds its copy of the queues while the turn runs (a command, a status read).
  const unpin = a.queues.pin(session.id);
  cleanups.push(unpin);
  const queued = await b.control.followup(session.id, ['second, queued on b']);
  open();
  const users: string[] = [];
  let stopped = 0;
  for await (const batch of sub) {
    for (const e of batch) if (e.type === 'user_message') users.push(String(e.data.content));
    stopped += batch.filter((e) => e.type === 'stream_stopped').length;
    if (stopped >= 2) break;
  }
  // a delivered b's item at its turn's end, with nobody draining by hand.
  expect(users).toEqual(['first, on a', 'second, queued on b']);
  await a.waitIdle(session.id, 5000);
  expect(await stores[0].getState(session.id, 'queue:followup')).toBeUndefined();
  // Neither node shows the delivered item as still queued (no copy outlives its users in a cluster).
  for (const n of [a, b]) expect((await n.control.queue(session.id)).followup.depth).toBe(0);
  expect(queued.item_ids).toHaveLength(1);
}

/** Another node rewrites the steer queue just as the turn takes it: the turn takes what the store holds. */
async function steerChangedElsewhere(stores: [Store, Store]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-cluster-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const held: FakeStep = async function* (_req, index) {
    if (index === 0) await opened;
    yield { type: 'text', delta: `answer ${index}` };
    yield finish;
  };
  const a = node(stores[0], new SharedClaim().view(0), dir, new MemoryBus(), held);
  const session = await a.create({ title: 'steer' });
  const sub = await a.subscribe(session.id, 0);
  cleanups.push(() => sub.close());
  await a.send(session.id, 'first');
  await a.control.steer(session.id, ['steered on a']);
  const row = await stores[1].getState(session.id, 'queue:steer');
  const replaced = JSON.stringify([{ item_id: 'q_elsewhere', content: 'steered on b', queued_at: new Date().toISOString() }]);
  expect(await stores[1].compareAndSetState(session.id, 'queue:steer', row, replaced)).toBe(true);
  open();
  const events = [];
  for await (const batch of sub) {
    events.push(...batch);
    if (batch.some((e) => e.type === 'stream_stopped')) break;
  }
  expect(events.filter((e) => e.type === 'user_message').map((e) => e.data.content)).toEqual(['first', 'steered on b']);
  expect(events.filter((e) => e.type === 'error')).toEqual([]);
  expect(events.at(-1)?.data).toMatchObject({ reason: 'normal' });
  await a.waitIdle(session.id, 5000);
  expect(await stores[0].getState(session.id, 'queue:steer')).toBeUndefined();
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
    await queuedElsewhere(stores);
    await steerChangedElsewhere(stores);
  });

  describe.skipIf(NO_POSTGRES)('Postgres', () => {
    beforeAll(assertPostgresReachable);

    /** Two stores (two nodes' pools) on one fresh schema, dropped afterwards. */
    async function pgStores(): Promise<[Store, Store]> {
      const schema = uniqueSchema('queues');
      const stores: [Store, Store] = [
        await PostgresStore.open(TEST_PG_URL, { schema, max: 4 }),
        await PostgresStore.open(TEST_PG_URL, { schema, max: 4 }),
      ];
      cleanups.push(async () => {
        for (const s of stores) await s.close();
        await dropSchema(schema);
      });
      return stores;
    }

    it('none is lost or duplicated', async () => race(await pgStores()));
    it('a follow-up queued on the node not running the turn is delivered at its end', async () => queuedElsewhere(await pgStores()));
    it('a steer queue changed by another node as the turn takes it: the turn takes the store’s items', async () => steerChangedElsewhere(await pgStores()));
  });
});
