import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toWire, type StoredEvent } from '../../protocol/events.js';
import type { FrameFormat } from '../../protocol/wire-frames.js';
import { checkFrames } from '../testing/conformance-frames.js';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { PostgresStore } from './store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema, withSchemaClient } from './test-db.js';

const opened: Array<{ store: PostgresStore; schema: string }> = [];

async function open(schema = uniqueSchema('frames')): Promise<{ store: PostgresStore; schema: string }> {
  const entry = { store: await PostgresStore.open(TEST_PG_URL, { schema, max: 2 }), schema };
  opened.push(entry);
  return entry;
}

afterEach(async () => {
  const schemas = new Set<string>();
  for (const { store, schema } of opened.splice(0)) {
    await store.close();
    schemas.add(schema);
  }
  for (const schema of schemas) await dropSchema(schema);
});

const sql = (schema: string, text: string) => withSchemaClient(schema, (client) => client.query(text));

/** Every page of a session read as a subscriber reads them (each after the last one's end); the last seq. */
async function readAll(store: PostgresStore, session: string, limit: number, mustBuild: boolean): Promise<number> {
  let after = 0;
  for (let last = -1; after !== last; ) [last, after] = [after, await checkFrames(store, session, after, limit, mustBuild)];
  return after;
}

/** A page's bytes as text; `built`: whether PostgreSQL built it (a Buffer; the JS framing gives a Uint8Array). */
async function page(store: PostgresStore, session: string, after: number, limit: number, format: FrameFormat) {
  const framed = await store.readEventFrames(session, after, limit, format);
  return { text: Buffer.from(framed.bytes).toString(), built: Buffer.isBuffer(framed.bytes), seqs: framed.seqs };
}

const LINES: FrameFormat = [{ text: '' }, 'wire', { text: '\n' }];

describe.skipIf(NO_POSTGRES)('Postgres frames and the splice flag (migration 138)', () => {
  beforeAll(assertPostgresReachable);

  it('frames rows written before the flag (NULL), alone and mixed with flagged ones, page after page', async () => {
    const { store, schema } = await open();
    await store.createSession(testSessionRecord('a'));
    const data = [{ content: 'c' }, { content: 'x', seq: 'clash' }, {}, { content: '\u001e RS ü' }, { part: [{ type: 't' }] }];
    await store.commit(Array.from({ length: 20 }, (_, i) => ({ ...testEntry('a', i + 1), data: data[i % data.length] as Record<string, unknown> })));
    // Rows 1-12 as a Tower before migration 138 left them.
    await sql(schema, "UPDATE events SET splice = NULL WHERE session_id = 'a' AND seq <= 12");
    for (const limit of [1, 3, 5, 7, 100]) expect(await readAll(store, 'a', limit, false)).toBe(20);
    // Windows that start inside the old rows and end inside the new ones, read out of order.
    for (const [after, limit] of [[11, 3], [0, 13], [12, 1], [2, 10], [13, 100], [11, 2]] as const) await checkFrames(store, 'a', after, limit, false);
  });

  it('reads an old session checked page after page, and builds its pages again once a checked one is flagged throughout', async () => {
    const { store, schema } = await open();
    await store.createSession(testSessionRecord('a'));
    await store.commit(Array.from({ length: 12 }, (_, i) => testEntry('a', i + 1)));
    await sql(schema, "UPDATE events SET splice = NULL WHERE session_id = 'a' AND seq <= 5");
    const built: boolean[] = [];
    for (let after = 0; after < 12; after += 3) built.push((await page(store, 'a', after, 3, LINES)).built);
    // (0,3] old; (3,6] mixed; (6,9] flagged but read checked (the session's last page was old); (9,12] built.
    expect(built).toEqual([false, false, false, true]);
    expect((await page(store, 'a', 0, 12, LINES)).built).toBe(false);
    expect((await page(store, 'a', 5, 7, LINES)).built).toBe(true);
  });

  it('forgets a row’s flag when its text is rewritten, so a rewrite cannot leave a stale one', async () => {
    const { store, schema } = await open();
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), testEntry('a', 2), testEntry('a', 3)]);
    await sql(schema, `UPDATE events SET data = '{"content":"now","timestamp":"a clash"}' WHERE session_id = 'a' AND seq = 2`);
    await checkFrames(store, 'a', 0, 100, false);
    const [, second] = await store.readEvents('a', 0, 100);
    expect((await page(store, 'a', 1, 1, [{ text: '' }, 'wire'])).text).toBe(JSON.stringify(toWire(second as StoredEvent)));
  });

  it('takes a page whose rows are all flagged as SQL built it, without checking its payloads again', async () => {
    const { store, schema } = await open();
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), { ...testEntry('a', 2), data: { content: 'x', type: 'clash' } }]);
    // A flag that lies: only the built path trusts it (the checked one would frame the row the object way).
    await sql(schema, "UPDATE events SET splice = true WHERE session_id = 'a'");
    const framed = await page(store, 'a', 0, 100, LINES);
    expect(framed.built).toBe(true);
    expect(framed.text.split('\n')[1]).toBe(`{"content":"x","type":"clash","type":"agent_choice","seq":2,"session_id":"a","timestamp":"${testEntry('a', 2).timestamp}"}`);
  });

  it('frames in JS a format PostgreSQL text cannot bind (a NUL in a literal), byte for byte', async () => {
    const { store } = await open();
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), testEntry('a', 2)]);
    const events = await store.readEvents('a', 0, 100);
    const framed = await page(store, 'a', 0, 100, [{ text: '\u0000' }, 'seq', { text: ' ' }, 'wire']);
    expect(framed.built).toBe(false);
    expect(framed.text).toBe(events.map((e) => `\u0000${e.seq} ${JSON.stringify(toWire(e))}`).join(''));
  });

  it('migrates a database from before the flag: old rows NULL and framed checked, new rows flagged and built', async () => {
    const { store: first, schema } = await open();
    await first.createSession(testSessionRecord('a'));
    await first.close();
    opened.splice(0);
    // The schema as a Tower before migration 138 left it, with two old rows.
    await sql(
      schema,
      `DROP TRIGGER events_splice_stale ON events; DROP FUNCTION events_splice_stale(); ALTER TABLE events DROP COLUMN splice;
       DELETE FROM schema_migrations WHERE version >= 138;
       INSERT INTO events (session_id, seq, type, data, created_at) VALUES
         ('a', 1, 'agent_choice', '{"content":"old"}', '2025-01-02T03:04:05.000Z'),
         ('a', 2, 'agent_choice', '{"content":"old","type":"clash"}', '2025-01-02T03:04:05.001Z');
       UPDATE sessions SET last_event_seq = 2 WHERE id = 'a';`,
    );
    const { store } = await open(schema);
    await store.commit([testEntry('a', 3), testEntry('a', 4)]);
    for (const limit of [1, 2, 3, 100]) expect(await readAll(store, 'a', limit, false)).toBe(4);
    expect((await page(store, 'a', 2, 100, LINES)).built).toBe(true);
  });
});
