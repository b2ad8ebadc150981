import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeSessionClaimConformance } from '../../core/sessions/testing/claim-conformance.js';
import { isTowerError } from '../../protocol/errors.js';
import { PgSessionLease, assertFence } from './lease.js';
import { PostgresStore } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from './test-db.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two nodes: two stores (two pools) on one fresh schema, each with its own lease instance. */
async function twoNodes(opts: { onLost?: (ids: string[]) => void } = {}): Promise<{
  stores: [PostgresStore, PostgresStore];
  leases: [PgSessionLease, PgSessionLease];
}> {
  const schema = uniqueSchema('lease');
  const a = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
  const b = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
  const la = new PgSessionLease(a.pool, opts);
  const lb = new PgSessionLease(b.pool);
  cleanups.push(async () => {
    la.close();
    lb.close();
    await a.close();
    await b.close();
    await dropSchema(schema);
  });
  return { stores: [a, b], leases: [la, lb] };
}

/** Ends a lease as the clock would after its ttl, without waiting for it. */
async function expire(store: PostgresStore, sessionId: string): Promise<void> {
  await store.pool.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = $1`, [sessionId]);
}

describe.skipIf(NO_POSTGRES)('PgSessionLease', () => {
  beforeAll(assertPostgresReachable);

  describeSessionClaimConformance('postgres lease', async () => (await twoNodes()).leases);

  it('two nodes racing to claim one session: exactly one wins, every time', async () => {
    const { leases } = await twoNodes();
    const [a, b] = leases;
    for (let round = 0; round < 10; round++) {
      const id = `race-${round}`;
      const [wa, wb] = await Promise.all([a.claim(id, 'node-a'), b.claim(id, 'node-b')]);
      expect([wa, wb].filter(Boolean)).toHaveLength(1);
      const winner = wa ? a : b;
      expect(winner.tokenOf(id)).toBeDefined();
      expect((wa ? b : a).tokenOf(id)).toBeUndefined();
    }
  });

  it('keeps the token across re-claims and renewals; an expired lease goes to the next claimant with a higher token', async () => {
    const lostSeen: string[][] = [];
    const { stores, leases } = await twoNodes({ onLost: (ids) => lostSeen.push(ids) });
    const [a, b] = leases;
    const first = await a.claimToken('s', 'node-a');
    expect(first).toBeDefined();
    expect(await a.claimToken('s', 'node-a')).toBe(first);
    expect(await a.renew()).toEqual([]);
    expect(await b.claim('s', 'node-b')).toBe(false);

    await expire(stores[0], 's');
    const second = await b.claimToken('s', 'node-b');
    expect(second).toBeGreaterThan(first as number);
    // The old owner finds out at its next renewal, and cannot take the session back.
    expect(await a.renew()).toEqual(['s']);
    expect(lostSeen).toEqual([['s']]);
    expect(a.tokenOf('s')).toBeUndefined();
    expect(await a.claim('s', 'node-a')).toBe(false);
    // Nor can its late release free the new owner's lease.
    await a.release('s', 'node-a');
    expect(await a.claim('s', 'node-a')).toBe(false);
  });

  it('fences writers: a transaction with a lost token fails with session_busy, the current one passes', async () => {
    const { stores, leases } = await twoNodes();
    const [a, b] = leases;
    const old = (await a.claimToken('f', 'node-a')) as number;
    await stores[0].transaction((client) => assertFence(client, 'f', old));
    await expire(stores[0], 'f');
    const current = (await b.claimToken('f', 'node-b')) as number;
    const err = await stores[0].transaction((client) => assertFence(client, 'f', old)).catch((e: unknown) => e);
    expect(isTowerError(err) && err.code).toBe('session_busy');
    await stores[1].transaction((client) => assertFence(client, 'f', current));
  });

  it('an expired lease fails the fence even before anyone else claims it', async () => {
    const { stores, leases } = await twoNodes();
    const token = (await leases[0].claimToken('g', 'node-a')) as number;
    await expire(stores[0], 'g');
    const err = await stores[0].transaction((client) => assertFence(client, 'g', token)).catch((e: unknown) => e);
    expect(isTowerError(err) && err.code).toBe('session_busy');
  });
});
