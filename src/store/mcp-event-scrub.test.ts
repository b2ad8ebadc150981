import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_MARKER, redactMcp, redactStoredMcp } from '../protocol/mcp-secrets.js';
import type { McpSettings } from '../protocol/mcp.js';
import { SCRUB_PAGE, scrubbedEventData } from './mcp-event-scrub.js';
import { PG_MIGRATIONS, runPgMigrations } from './postgres/migrations.js';
import { PostgresStore } from './postgres/store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from './postgres/test-db.js';
import { MIGRATIONS, runMigrations } from './sqlite/migrations.js';
import { SqliteStore } from './sqlite/store.js';
import { sqliteFiles } from './testing/sqlite-files.js';

const SECRETS = ['ghp_old_token_1', 'sk-env-secret-2', 'dyn-secret-3'];
const mcp: McpSettings = {
  servers: [
    { name: 'gh', transport: 'http', url: 'https://mcp.example/', headers: { authorization: `Bearer ${SECRETS[0]}` }, dynamic_headers: { 'x-d': SECRETS[2]! } },
    { name: 'local', transport: 'stdio', command: 'node', args: ['server.js'], env: { API_KEY: SECRETS[1]!, MODE: 'fast' } },
  ],
};

/** Events as an older Tower wrote them: one with secrets, and the ones the migration must leave byte for byte. */
const OLD_EVENTS: Array<[seq: number, type: string, data: string]> = [
  [1, 'session_created', JSON.stringify({ title: 't', model: 'm', working_dir: '/w' })],
  // The old format: settings with their secrets, between other fields whose order must stay.
  [2, 'session_updated', JSON.stringify({ sandbox: 'none', mcp, network: false })],
  // Already redacted (a newer Tower), a title change, and text that merely mentions "mcp" and a secret.
  [3, 'session_updated', JSON.stringify({ sandbox: 'none', mcp: redactMcp(mcp) })],
  [4, 'session_updated', JSON.stringify({ title: 'renamed "mcp"' })],
  [5, 'user_message', JSON.stringify({ content: `my "mcp" token is ${SECRETS[0]}`, message_index: 0 })],
  // Written by some older shape the schema no longer takes: the same rule still applies.
  [6, 'session_updated', JSON.stringify({ mcp: { servers: [{ name: 'odd', env: { K: SECRETS[1] }, headers: 'not an object' }], extra: 1 } })],
];
const SETTINGS = JSON.stringify({ sandbox: 'none', mcp });

const expected = (seq: number, data: string): string => {
  if (seq === 2) return JSON.stringify({ sandbox: 'none', mcp: redactMcp(mcp), network: false });
  if (seq === 6) return JSON.stringify({ mcp: { servers: [{ name: 'odd', env: { K: SECRET_MARKER }, headers: 'not an object' }], extra: 1 } });
  return data;
};

function checkScrubbed(rows: Array<{ seq: number | string; type: string; data: string }>): void {
  expect(rows.map((r) => [Number(r.seq), r.type, r.data])).toEqual(OLD_EVENTS.map(([seq, type, data]) => [seq, type, expected(seq, data)]));
  for (const row of rows) {
    if (row.type === 'session_updated') for (const secret of SECRETS) expect(row.data).not.toContain(secret);
  }
}

describe('the redaction rule for stored events', () => {
  it('is redactMcp for valid settings, and rewrites only data that held a secret', () => {
    expect(redactStoredMcp(mcp)).toEqual(redactMcp(mcp));
    expect(scrubbedEventData(OLD_EVENTS[1]![2])).toBe(expected(2, ''));
    for (const [seq, , data] of OLD_EVENTS) if (seq !== 2 && seq !== 6) expect(scrubbedEventData(data)).toBeUndefined();
    expect(scrubbedEventData('not json')).toBeUndefined();
  });
});

describe('SQLite migration 35', () => {
  const files = sqliteFiles('tower-scrub-');
  afterEach(files.cleanup);

  it('scrubs MCP secrets from old session_updated events and changes nothing else', async () => {
    const path = join(files.dir(), 'tower.db');
    const old = new Database(path);
    runMigrations(old, MIGRATIONS.filter((m) => m.version < 35));
    old.prepare(`INSERT INTO sessions (id, title, created_at, updated_at, working_dir, model, permissions, settings, last_event_seq)
                 VALUES ('s1', 't', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '/w', 'm', '{}', ?, ?)`).run(SETTINGS, OLD_EVENTS.length);
    const insert = old.prepare("INSERT INTO events (session_id, seq, type, data, created_at) VALUES ('s1', ?, ?, ?, '2026-01-01T00:00:00.000Z')");
    for (const [seq, type, data] of OLD_EVENTS) insert.run(seq, type, data);
    // Another session with more old events than one page holds, so the scrub walks several pages.
    old.prepare(`INSERT INTO sessions (id, title, created_at, updated_at, working_dir, model, permissions)
                 VALUES ('s2', 't', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '/w', 'm', '{}')`).run();
    const many = old.prepare("INSERT INTO events (session_id, seq, type, data, created_at) VALUES ('s2', ?, 'session_updated', ?, '2026-01-01T00:00:00.000Z')");
    for (let seq = 1; seq <= SCRUB_PAGE * 2 + 7; seq++) many.run(seq, OLD_EVENTS[1]![2]);
    old.close();

    const store = files.track(new SqliteStore(path));
    const raw = new Database(path, { readonly: true });
    try {
      checkScrubbed(raw.prepare<[], { seq: number; type: string; data: string }>("SELECT seq, type, data FROM events WHERE session_id = 's1' ORDER BY seq").all());
      // The row keeps the secrets (the MCP client needs them); only events lose them.
      expect(raw.prepare<[], { settings: string }>("SELECT settings FROM sessions WHERE id = 's1'").get()?.settings).toBe(SETTINGS);
      expect(raw.prepare<[], { v: number }>('SELECT MAX(version) AS v FROM schema_migrations').get()?.v).toBeGreaterThanOrEqual(35);
      const others = raw.prepare<[], { data: string }>("SELECT data FROM events WHERE session_id = 's2'").all();
      expect(others).toHaveLength(SCRUB_PAGE * 2 + 7);
      expect(others.every((r) => r.data === expected(2, ''))).toBe(true);
    } finally {
      raw.close();
    }
    const read = await store.readEvents('s1', 0, 100);
    expect(read.find((e) => e.seq === 2)?.data).toEqual({ sandbox: 'none', mcp: redactMcp(mcp), network: false });
  });
});

describe.skipIf(NO_POSTGRES)('Postgres migration 135', () => {
  const schema = uniqueSchema('scrub');
  beforeAll(assertPostgresReachable);
  afterAll(() => dropSchema(schema));

  it('scrubs MCP secrets from old session_updated events and changes nothing else', async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await runPgMigrations(client, { schema, migrations: PG_MIGRATIONS.filter((m) => m.version < 135) });
      await client.query(
        `INSERT INTO sessions (id, title, created_at, updated_at, working_dir, model, permissions, settings, last_event_seq)
         VALUES ('s1', 't', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '/w', 'm', '{}', $1, $2)`,
        [SETTINGS, OLD_EVENTS.length],
      );
      for (const [seq, type, data] of OLD_EVENTS) {
        await client.query("INSERT INTO events (session_id, seq, type, data, created_at) VALUES ('s1', $1, $2, $3, '2026-01-01T00:00:00.000Z')", [seq, type, data]);
      }
      const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 2 });
      try {
        const read = await store.readEvents('s1', 0, 100);
        expect(read.find((e) => e.seq === 2)?.data).toEqual({ sandbox: 'none', mcp: redactMcp(mcp), network: false });
      } finally {
        await store.close();
      }
      checkScrubbed((await client.query<{ seq: string; type: string; data: string }>("SELECT seq, type, data FROM events WHERE session_id = 's1' ORDER BY seq")).rows);
      expect((await client.query<{ settings: string }>("SELECT settings FROM sessions WHERE id = 's1'")).rows[0]?.settings).toBe(SETTINGS);
      expect((await client.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v).toBeGreaterThanOrEqual(135);
    } finally {
      await client.end();
    }
  });
});
