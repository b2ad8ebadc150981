import type pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import { testSessionRecord } from '../testing/fixtures.js';
import { frameStatement } from './frames.js';
import { PostgresStore, READ_CHECKED, READ_EVENTS } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema, withSchemaClient } from './test-db.js';

/**
 * The plans PostgreSQL makes for the catch-up page statements, custom (a named statement's first five
 * executions on a connection, every unnamed one) and generic (later ones), on the tables where the old
 * shape (`seq > $2 ... LIMIT $3`) was planned as a bitmap scan of the session's remaining rows plus a
 * sort: a fresh table with no statistics, and a session grown after the last ANALYZE. Each statement is
 * PREPAREd with the text the store sends and EXPLAINed as EXECUTE at the first page, as the pool runs it.
 */

const SSE: FrameFormat = [{ text: 'id: ' }, 'seq', { text: '\nevent: ' }, 'type', { text: '\ndata: ' }, 'wire', { text: '\n\n' }];
const BIG = 'big-session';
const ROWS = 100_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const schemas: string[] = [];
afterEach(async () => {
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

/** A migrated schema whose events table autovacuum leaves alone (its statistics are what the test sets up). */
async function migrated(): Promise<string> {
  const schema = uniqueSchema('plans');
  schemas.push(schema);
  const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 1 });
  try {
    await store.createSession(testSessionRecord(BIG));
  } finally {
    await store.close();
  }
  await withSchemaClient(schema, (c) => c.query('ALTER TABLE events SET (autovacuum_enabled = false)'));
  return schema;
}

/** `count` events of `session` written in SQL (100-byte payloads, flagged as the store flags them). */
const insertEvents = (c: pg.Client, session: string, count: number) =>
  c.query(
    `INSERT INTO events (session_id, seq, type, data, created_at, splice)
     SELECT $1, g, 'agent_choice', '{"x":"' || repeat('a', 80) || '"}', '2026-12-08T00:00:00.000Z', true FROM generate_series(1, $2::int) g`,
    [session, count],
  );

/** The statements a page read sends, each with its values for the first page of `BIG`. */
function statements(): Array<{ label: string; text: string; values: unknown[] }> {
  const frames = frameStatement(SSE);
  if (!frames) throw new Error('the SSE format has no NUL: it is built in SQL');
  return [
    { label: READ_EVENTS.name, text: READ_EVENTS.text, values: [BIG, 0, 500] },
    { label: READ_CHECKED.name, text: READ_CHECKED.text, values: [BIG, 0, 500] },
    { label: 'frames', text: frames.text, values: [BIG, JSON.stringify(BIG), 0, 500, ...frames.literals] },
  ];
}

/** Node types of each statement's plan, per `plan_cache_mode`. */
async function plans(schema: string): Promise<Record<string, string[]>> {
  return withSchemaClient(schema, async (c) => {
    const out: Record<string, string[]> = {};
    for (const [i, { label, text, values }] of statements().entries()) {
      await c.query(`PREPARE page_${i} AS ${text}`);
      const args = values.map((v) => (typeof v === 'number' ? String(v) : c.escapeLiteral(String(v)))).join(', ');
      for (const mode of ['force_custom_plan', 'force_generic_plan']) {
        await c.query(`SET plan_cache_mode = ${mode}`);
        const { rows } = await c.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) EXECUTE page_${i}(${args})`);
        const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
        if (!plan) throw new Error(`no plan for ${label}`);
        out[`${label} ${mode}`] = nodes(plan).map((n) => (n['Index Name'] ? `${n['Node Type']} ${n['Index Name']}` : n['Node Type']));
      }
    }
    return out;
  });
}

/** Every plan reads the page by the primary key, in order: no bitmap scan of the session's rest, no sort. */
function expectIndexPages(found: Record<string, string[]>): void {
  expect(Object.keys(found)).toHaveLength(6);
  for (const [label, types] of Object.entries(found)) {
    expect({ label, types }).toEqual({ label, types: expect.arrayContaining(['Limit', 'Index Scan events_pkey']) as unknown });
    expect({ label, types }).toEqual({ label, types: expect.not.arrayContaining(['Sort']) as unknown });
    expect({ label, types }).toEqual({ label, types: expect.not.arrayContaining(['Bitmap Heap Scan']) as unknown });
    expect({ label, types }).toEqual({ label, types: expect.not.arrayContaining(['Seq Scan']) as unknown });
  }
}

describe.skipIf(NO_POSTGRES)('the page statements are planned as an index scan whatever the statistics', () => {
  beforeAll(assertPostgresReachable);

  it('on a fresh table never analyzed', async () => {
    const schema = await migrated();
    await withSchemaClient(schema, (c) => insertEvents(c, BIG, ROWS));
    expectIndexPages(await plans(schema));
  }, 60_000);

  it('for a session grown after the last ANALYZE of many small ones', async () => {
    const schema = await migrated();
    await withSchemaClient(schema, async (c) => {
      // 2,000 small sessions (rows copied from BIG's), 100 events each, analyzed; then BIG's 100k events.
      await c.query(
        `INSERT INTO sessions SELECT r.* FROM generate_series(1, 2000) g,
           LATERAL jsonb_populate_record(NULL::sessions, (SELECT to_jsonb(s) || jsonb_build_object('id', 'small-' || g) FROM sessions s WHERE id = $1)) r`,
        [BIG],
      );
      await c.query(
        `INSERT INTO events (session_id, seq, type, data, created_at, splice)
         SELECT 'small-' || s, g, 'agent_choice', '{"x":"' || repeat('a', 80) || '"}', '2026-12-08T00:00:00.000Z', true
         FROM generate_series(1, 2000) s, generate_series(1, 100) g`,
      );
      await c.query('ANALYZE events');
      await insertEvents(c, BIG, ROWS);
    });
    expectIndexPages(await plans(schema));
  }, 60_000);
});
