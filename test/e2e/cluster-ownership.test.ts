import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../src/bus/test-redis.js';
import { startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';
import { isTowerError } from '../../src/protocol/errors.js';
import type { StoredEvent } from '../../src/protocol/events.js';
import type { Tower } from '../../src/server/tower.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { clusterScript, startNodes } from '../support/cluster.js';

/** Events of a session read through `tower` (store catch-up, then live) until `until` holds. */
async function eventsUntil(tower: Tower, id: string, until: (e: StoredEvent, all: StoredEvent[]) => boolean): Promise<StoredEvent[]> {
  const sub = await tower.manager.subscribe(id, 0);
  const out: StoredEvent[] = [];
  try {
    for await (const batch of sub) {
      for (const e of batch) {
        out.push(e);
        if (until(e, out)) return out;
      }
    }
  } finally {
    sub.close();
  }
  return out;
}

const stops = (events: StoredEvent[]) => events.filter((e) => e.type === 'stream_stopped').map((e) => (e.data as { reason: string }).reason);

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (err: unknown) => (isTowerError(err) ? err.code : String(err)),
  );
}

describe.skipIf(NO_POSTGRES)('session ownership across nodes (in-process nodes, one Postgres, one Redis)', () => {
  const schema = uniqueSchema('own');
  let fake: FakeModelServer;
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let a: Tower;
  let b: Tower;
  let pg: PostgresStore;

  beforeAll(async () => {
    await assertPostgresReachable();
    fake = await startFakeModelServer({ format: 'openai', script: clusterScript(30) });
    cluster = await startNodes(2, { storeUrl: `${TEST_PG_URL}?schema=${schema}`, busUrl: TEST_REDIS_URL, fake });
    [a, b] = cluster.nodes as [Tower, Tower];
    pg = await PostgresStore.open(TEST_PG_URL, { schema });
  });
  afterAll(async () => {
    await cluster?.close();
    await pg?.close();
    await fake?.close();
    await dropSchema(schema);
  });

  it('two nodes racing to start a turn on one idle session: exactly one wins, the other answers session_busy', async () => {
    for (let round = 0; round < 6; round++) {
      const session = await a.commands.execute('sessions.create', {});
      const results = await Promise.allSettled([
        a.commands.execute('sessions.send', { session_id: session.id, content: `race ${round} from a` }),
        b.commands.execute('sessions.send', { session_id: session.id, content: `race ${round} from b` }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost.map((e) => (isTowerError(e) ? e.code : String(e)))).toEqual(['session_busy']);
      const events = await eventsUntil(b, session.id, (e) => e.type === 'stream_stopped');
      expect(events.filter((e) => e.type === 'user_message')).toHaveLength(1);
    }
  });

  it('commands sent to the node that does not run the turn act on it, with the same answers and error codes', async () => {
    const session = await a.commands.execute('sessions.create', {});
    const id = session.id;
    const started = (await a.commands.execute('sessions.send', { session_id: id, content: 'a slow one' })) as { turn_id: string };
    await eventsUntil(b, id, (e) => e.type === 'agent_choice');

    // Read live state through b: it is a's turn.
    const status = await b.commands.execute('sessions.status', { session_id: id });
    expect(status).toMatchObject({ status: 'running', turn_id: started.turn_id });
    expect(await b.commands.execute('sessions.get', { session_id: id })).toMatchObject({ status: 'running' });
    const listed = await b.commands.execute('sessions.list', { limit: 200 });
    expect(listed.items.find((s) => s.id === id)?.status).toBe('running');

    // Errors come back with the owner's codes; bad input is refused before any hop.
    for (const [name, params] of [
      ['confirmations.answer', { session_id: id, tool_call_id: 'no-such-call', decision: 'approve' }],
      ['elicitations.answer', { session_id: id, elicitation_id: 'no-such-question', action: 'decline' }],
      ['sessions.send', { session_id: id, content: 'while busy' }],
      ['sessions.set_model', { session_id: id, model: 'nobody/none' }],
      ['sessions.steer', { session_id: id, messages: [] }],
    ] as const) {
      const onOwner = await codeOf(a.commands.execute(name, params));
      expect(onOwner).toBeDefined();
      expect(await codeOf(b.commands.execute(name, params))).toBe(onOwner);
    }

    const steered = await b.commands.execute('sessions.steer', { session_id: id, messages: [{ content: 'steered in from b' }] });
    expect(steered.depth).toBe(1);
    const queued = await b.commands.execute('sessions.follow_up', { session_id: id, messages: [{ content: 'follow-up from b' }], idempotency_key: 'k1' });
    expect(queued.status).toBe('queued_streaming');
    expect(await b.commands.execute('sessions.follow_up', { session_id: id, messages: [{ content: 'follow-up from b' }], idempotency_key: 'k1' })).toMatchObject({ status: 'duplicate' });
    expect(await codeOf(b.commands.execute('sessions.follow_up', { session_id: id, messages: [{ content: 'other' }], idempotency_key: 'k1' }))).toBe('idempotency_key_reused');
    // Durable before the answer: the queue state is in the store already.
    expect(await pg.getState(id, 'queue:followup')).toContain('follow-up from b');
    expect(await b.commands.execute('sessions.queue', { session_id: id })).toMatchObject({ steer: { depth: 1 }, followup: { depth: 1 } });

    expect(await b.commands.execute('sessions.interrupt', { session_id: id })).toEqual({ interrupted: true, turn_id: started.turn_id });
    // The interrupted turn's queue still runs: the steered message opens the next turn, then the follow-up.
    const events = await eventsUntil(b, id, (_e, all) => stops(all).length === 3);
    expect(stops(events)).toEqual(['canceled', 'normal', 'normal']);
    const users = events.filter((e) => e.type === 'user_message').map((e) => (e.data as { content: string }).content);
    expect(users).toEqual(['a slow one', 'steered in from b', 'follow-up from b']);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
  });

  it('a confirmation pending on one node is answered through the other; a delete through it stops the turn first', async () => {
    const session = await a.commands.execute('sessions.create', {});
    const id = session.id;
    await a.commands.execute('sessions.send', { session_id: id, content: 'please run a tool' });
    const asked = await eventsUntil(b, id, (e) => e.type === 'tool_call_confirmation');
    const callId = (asked.at(-1)?.data as { tool_call_id: string }).tool_call_id;
    const pending = await b.commands.execute('sessions.status', { session_id: id });
    expect(pending.pending_confirmations.map((p) => p.tool_call_id)).toEqual([callId]);
    expect(await b.commands.execute('confirmations.answer', { session_id: id, tool_call_id: callId, decision: 'approve' })).toEqual({ resolved: true });
    expect(await codeOf(b.commands.execute('confirmations.answer', { session_id: id, tool_call_id: callId, decision: 'approve' }))).toBe(
      await codeOf(a.commands.execute('confirmations.answer', { session_id: id, tool_call_id: callId, decision: 'approve' })),
    );
    const events = await eventsUntil(b, id, (e) => e.type === 'stream_stopped');
    expect(stops(events)).toEqual(['normal']);
    expect(events.find((e) => e.type === 'tool_call_response')?.data).toMatchObject({ is_error: false });

    await a.commands.execute('sessions.send', { session_id: id, content: 'a slow one, then deleted' });
    await eventsUntil(b, id, (_e, all) => all.filter((e) => e.type === 'agent_choice').length > 1 && all.at(-1)?.type === 'agent_choice');
    expect(await b.commands.execute('sessions.delete', { session_id: id })).toEqual({ deleted: true });
    expect(a.manager.turnOf(id)).toBeUndefined();
    expect(await pg.getSession(id)).toBeUndefined();
    for (const node of [a, b]) expect(await codeOf(node.commands.execute('sessions.get', { session_id: id }))).toBe('unknown_session');
  });

  it('a node that lost its lease stops its turn and writes nothing more; another node recovers the session once', async () => {
    const session = await a.commands.execute('sessions.create', {});
    const id = session.id;
    await a.commands.execute('sessions.send', { session_id: id, content: 'a slow one to lose' });
    await eventsUntil(b, id, (e) => e.type === 'agent_choice');
    // As if a's renewals had stopped reaching the database (a pause, a partition): the lease runs out.
    await pg.pool.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = $1`, [id]);
    const events = await eventsUntil(b, id, (e) => e.type === 'stream_stopped');
    expect(stops(events)).toEqual(['server_restart']);
    expect(await a.manager.waitIdle(id, 10_000)).toBe(true);
    // Nothing of a's turn lands after the recovery closed it.
    const stored = await pg.readEvents(id, 0, 10_000);
    expect(stored.at(-1)?.type).toBe('stream_stopped');
    expect(await pg.getState(id, 'active_turn')).toBeUndefined();
    // The session is usable again, on either node.
    await b.commands.execute('sessions.send', { session_id: id, content: 'after the takeover' });
    const after = await eventsUntil(a, id, (_e, all) => stops(all).length === 2);
    expect(stops(after)).toEqual(['server_restart', 'normal']);
  });

  it('a node stopped cleanly ends its turn as server_restart; another node delivers the follow-up it had queued', async () => {
    const session = await a.commands.execute('sessions.create', {});
    const id = session.id;
    await a.commands.execute('sessions.send', { session_id: id, content: 'a slow one before a clean stop' });
    await eventsUntil(b, id, (e) => e.type === 'agent_choice');
    expect(await b.commands.execute('sessions.follow_up', { session_id: id, messages: [{ content: 'picked up elsewhere' }] })).toMatchObject({ status: 'queued_streaming' });
    await a.close();
    const events = await eventsUntil(b, id, (_e, all) => stops(all).length === 2);
    expect(stops(events)).toEqual(['server_restart', 'normal']);
    expect(events.filter((e) => e.type === 'user_message').map((e) => (e.data as { content: string }).content)).toEqual([
      'a slow one before a clean stop',
      'picked up elsewhere',
    ]);
    expect(await pg.getState(id, 'queue:followup')).toBeUndefined();
  });
});
