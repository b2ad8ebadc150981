import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { PgSessionLease, type FenceSource } from './lease.js';
import { PostgresStore } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from './test-db.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two nodes' stores on one fresh schema, each with its lease and a fence built from it. */
interface FencedNode {
  store: PostgresStore;
  lease: PgSessionLease;
  failed: string[];
}

async function twoNodes(): Promise<FencedNode[]> {
  const schema = uniqueSchema('fence');
  const nodes: FencedNode[] = [];
  for (const name of ['a', 'b']) {
    const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
    const lease = new PgSessionLease(store.pool, { node: name });
    const failed: string[] = [];
    const fence: FenceSource = { tokenOf: (id) => lease.tokenOf(id), fenceFailed: (id) => failed.push(id) };
    store.useFence(fence);
    nodes.push({ store, lease, failed });
  }
  cleanups.push(async () => {
    for (const n of nodes) {
      n.lease.close();
      await n.store.close();
    }
    await dropSchema(schema);
  });
  return nodes;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

describe.skipIf(NO_POSTGRES)('commits fenced by session leases', () => {
  beforeAll(assertPostgresReachable);

  it('a node that lost its lease appends nothing: its commit fails with session_busy, the new owner commits', async () => {
    const [a, b] = await twoNodes();
    if (!a || !b) throw new Error('two nodes');
    await a.store.createSession(testSessionRecord('s1'));
    expect(await a.lease.claim('s1', 'turn-a')).toBe(true);
    await a.store.commit([testEntry('s1', 1)]);
    expect(await a.store.lastSeq('s1')).toBe(1);

    // A takeover: the lease expires (a long pause, a partition) and node b takes it with a new token.
    await a.store.pool.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = 's1'`);
    expect(await b.lease.claim('s1', 'turn-b')).toBe(true);
    const err = await failure(a.store.commit([testEntry('s1', 2, { state: { active_turn: null } })]));
    expect(isTowerError(err) && err.code).toBe('session_busy');
    expect(isTowerError(err) && err.details).toMatchObject({ session_id: 's1' });
    expect(a.failed).toEqual(['s1']);
    expect(await b.store.lastSeq('s1')).toBe(1);

    await b.store.commit([testEntry('s1', 2)]);
    expect((await b.store.readEvents('s1', 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a batch over several sessions fails whole when one is fenced out, and names that session', async () => {
    const [a, b] = await twoNodes();
    if (!a || !b) throw new Error('two nodes');
    for (const id of ['s2', 's3']) await a.store.createSession(testSessionRecord(id));
    expect(await a.lease.claim('s3', 'turn-a')).toBe(true);
    await a.store.pool.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = 's3'`);
    const err = await failure(a.store.commit([testEntry('s2', 1), testEntry('s3', 1)]));
    expect(isTowerError(err) && err.details).toMatchObject({ session_id: 's3' });
    expect(await a.store.lastSeq('s2')).toBe(0);
    // Sessions this node holds no lease for are written unfenced (creating one, titles after a turn).
    await a.store.commit([testEntry('s2', 1)]);
    expect(await a.store.lastSeq('s2')).toBe(1);
  });

  it('a takeover waits for the commit the old owner has in flight (the fence holds the lease row)', async () => {
    const [a, b] = await twoNodes();
    if (!a || !b) throw new Error('two nodes');
    await a.store.createSession(testSessionRecord('s4'));
    const token = (await a.lease.claimToken('s4', 'turn-a')) as number;
    // The fence passed just before the lease ran out; the writer is still inside its transaction.
    await a.store.pool.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = 's4'`);
    const order: string[] = [];
    let takeoverDone = false;
    let inside!: () => void;
    const fenced = new Promise<void>((resolve) => (inside = resolve));
    const blocked = async (): Promise<boolean> => {
      const { rows } = await a.store.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO session_leases%'`,
      );
      return rows.length > 0;
    };
    const writer = a.store.transaction(async (client) => {
      await client.query('SELECT 1 FROM session_leases WHERE session_id = $1 AND token = $2 FOR SHARE', ['s4', token]);
      inside();
      while (!takeoverDone && !(await blocked())) await new Promise((r) => setTimeout(r, 10));
      order.push('writer committed');
    });
    const takeover = (async () => {
      await fenced;
      const won = await b.lease.claim('s4', 'turn-b');
      takeoverDone = true;
      order.push(`takeover ${won}`);
    })();
    await Promise.all([writer, takeover]);
    expect(order).toEqual(['writer committed', 'takeover true']);
  });

  it('commits over many fenced sessions and renewals of their leases never deadlock (both lock in id order)', async () => {
    const [a] = await twoNodes();
    if (!a) throw new Error('a node');
    // Claimed in reverse order, so the renewal's input order is not the commit's.
    const ids = Array.from({ length: 8 }, (_, i) => `dl-${String.fromCharCode(122 - i)}`);
    for (const id of ids) {
      await a.store.createSession(testSessionRecord(id));
      expect(await a.lease.claim(id, `turn-${id}`)).toBe(true);
    }
    let n = 0;
    for (let round = 0; round < 25; round++) {
      const batch = () => a.store.commit(ids.map((id) => testEntry(id, ++n)));
      await Promise.all([batch(), a.lease.renew(), batch(), a.lease.renew().then(() => a.lease.renew())]);
    }
    for (const id of ids) expect(await a.store.lastSeq(id)).toBe(50);
    expect(a.failed).toEqual([]);
  });
});
