import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeSessionClaimConformance } from '../../core/sessions/testing/claim-conformance.js';
import { PostgresStore } from '../../store/postgres/index.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../store/postgres/test-db.js';
import { ClusterClaim } from './claim.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two nodes' claims on one fresh schema. */
async function twoNodes(): Promise<{ claims: [ClusterClaim, ClusterClaim]; store: PostgresStore }> {
  const schema = uniqueSchema('cclaim');
  const sa = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
  const sb = await PostgresStore.open(TEST_PG_URL, { schema, max: 4 });
  const a = new ClusterClaim(sa.pool, 'node-a', { ttlMs: 15_000, renewMs: 5_000 });
  const b = new ClusterClaim(sb.pool, 'node-b', { ttlMs: 15_000, renewMs: 5_000 });
  cleanups.push(async () => {
    a.close();
    b.close();
    await sa.close();
    await sb.close();
    await dropSchema(schema);
  });
  return { claims: [a, b], store: sa };
}

describe.skipIf(NO_POSTGRES)('ClusterClaim (a node’s leases as its SessionClaim and fence)', () => {
  beforeAll(assertPostgresReachable);

  describeSessionClaimConformance('cluster claim', async () => (await twoNodes()).claims);

  it('knows which node holds a session, and whether that is another one', async () => {
    const [a, b] = (await twoNodes()).claims;
    expect(await a.nodeOf('s')).toBeUndefined();
    expect(await b.heldElsewhere('s')).toBe(false);
    expect(await a.claim('s', 'turn-1')).toBe(true);
    expect(await b.nodeOf('s')).toBe('node-a');
    expect(await b.heldElsewhere('s')).toBe(true);
    expect(await a.heldElsewhere('s')).toBe(false);
    expect(a.tokenOf('s')).toBeGreaterThan(0);
    expect(b.tokenOf('s')).toBeUndefined();
    await a.release('s', 'turn-1');
    expect(a.tokenOf('s')).toBeUndefined();
    expect(await b.heldElsewhere('s')).toBe(false);
  });

  it('holds waits for a claim in flight: a node losing a race does not take the session for its own', async () => {
    const [a, b] = (await twoNodes()).claims;
    for (let i = 0; i < 5; i++) {
      const id = `h${i}`;
      const claims = [a.claim(id, 'turn-a'), b.claim(id, 'turn-b')];
      const [ha, hb] = await Promise.all([a.holds(id), b.holds(id)]);
      const [wa, wb] = await Promise.all(claims);
      expect([ha, hb]).toEqual([wa, wb]);
      expect([wa, wb].filter(Boolean)).toHaveLength(1);
    }
  });

  it('a claim right after a release of the same session waits for it (the next turn on this node gets the session)', async () => {
    const [a] = (await twoNodes()).claims;
    for (let i = 0; i < 10; i++) {
      expect(await a.claim('q', `turn-${i}`)).toBe(true);
      void a.release('q', `turn-${i}`);
      expect(await a.heldElsewhere('q')).toBe(false);
    }
    expect(await a.claim('q', 'turn-last')).toBe(true);
  });

  it('reports a lost lease and keeps its token, so the lost writer stays fenced out until it lets go', async () => {
    const { claims, store } = await twoNodes();
    const [a, b] = claims;
    const lost: string[][] = [];
    a.onLost((ids) => lost.push(ids));
    expect(await a.claim('l', 'turn-a')).toBe(true);
    const token = a.tokenOf('l');
    await store.pool.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = 'l'`);
    expect(await b.claim('l', 'turn-b')).toBe(true);
    a.fenceFailed('l');
    expect(lost).toEqual([['l']]);
    expect(a.tokenOf('l')).toBe(token);
    expect(b.tokenOf('l')).toBeGreaterThan(token as number);
    // The lost holder's release frees nothing of the new owner's.
    await a.release('l', 'turn-a');
    expect(a.tokenOf('l')).toBeUndefined();
    expect(await a.nodeOf('l')).toBe('node-b');
  });
});
