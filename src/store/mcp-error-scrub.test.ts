import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MCP_ERROR_CHARS } from '../protocol/mcp-scrub.js';
import type { McpSettings } from '../protocol/mcp.js';
import { scrubbedErrorEventData, scrubbedToolMessageData, sessionMcpSecrets } from './mcp-error-scrub.js';
import { SCRUB_PAGE } from './mcp-event-scrub.js';
import { PG_MIGRATIONS, runPgMigrations } from './postgres/migrations.js';
import { PostgresStore } from './postgres/store.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema, withSchemaClient } from './postgres/test-db.js';
import { MIGRATIONS, runMigrations } from './sqlite/migrations.js';
import { SqliteStore } from './sqlite/store.js';
import { sqliteFiles } from './testing/sqlite-files.js';

const [HEADER, ENV, DYN] = ['ghp_old_token_1', 'sk-env-secret-2', 'dyn-secret-3'] as const;
const mcp: McpSettings = {
  servers: [
    { name: 'gh', transport: 'http', url: 'https://mcp.example/', headers: { authorization: `Bearer ${HEADER}` }, dynamic_headers: { 'x-d': DYN } },
    { name: 'local', transport: 'stdio', command: 'node', args: ['server.js'], env: { API_KEY: ENV, MODE: 'fast' } },
  ],
};
const SETTINGS = JSON.stringify({ sandbox: 'none', mcp });
const LONG = 'x'.repeat(MAX_MCP_ERROR_CHARS + 100);

const ev = (data: Record<string, unknown>): string => JSON.stringify(data);
const call = { tool_call_id: 'c1' };

/** Old rows of session s1 and what migration 36 / 136 must leave in them (the same text: untouched). */
const EVENTS: Array<[seq: number, type: string, before: string, after: string]> = [
  // A server that could not be listed, as the SDK said it (a header value quoted).
  [1, 'error', ev({ code: 'mcp_server_failed', message: `MCP server gh: 401 for authorization: Bearer ${HEADER}; its tools are not offered` }),
    ev({ code: 'mcp_server_failed', message: 'MCP server gh: 401 for authorization: ***; its tools are not offered' })],
  // Not from MCP by its code: secrets still go (an SDK message can surface anywhere), and it is not cut.
  [2, 'error', ev({ code: 'internal', message: `spawn failed: API_KEY=${ENV} MODE=fast ${LONG}` }),
    ev({ code: 'internal', message: `spawn failed: API_KEY=*** MODE=*** ${LONG}` })],
  // A failed MCP tool: scrubbed and cut to the bound new text has.
  [3, 'tool_call_response', ev({ ...call, tool: 'mcp__local__search', result: `${LONG}${ENV}`, is_error: true }),
    ev({ ...call, tool: 'mcp__local__search', result: `${LONG.slice(0, MAX_MCP_ERROR_CHARS)}… (103 more characters cut)`, is_error: true })],
  // A successful result keeps its bytes, secret or not.
  [4, 'tool_call_response', ev({ ...call, tool: 'mcp__local__env', result: ENV, is_error: false }), ''],
  // A failed non-MCP tool: credentials go, nothing is cut.
  [5, 'tool_call_response', ev({ ...call, tool: 'bash', result: 'curl -H "Authorization: Bearer abcdef123456" failed', is_error: true }),
    ev({ ...call, tool: 'bash', result: 'curl -H "Authorization: Bearer ***" failed', is_error: true })],
  [6, 'user_message', ev({ content: `my token is ${HEADER}`, message_index: 0 }), ''],
];
const MESSAGES: Array<[idx: number, role: string, before: string, after: string]> = [
  [0, 'user', ev({ role: 'user', content: `my token is ${HEADER}` }), ''],
  [1, 'tool', ev({ role: 'tool', tool_call_id: 'c1', tool_name: 'mcp__gh__issues', content: `dynamic header ${DYN} refused`, is_error: true }),
    ev({ role: 'tool', tool_call_id: 'c1', tool_name: 'mcp__gh__issues', content: 'dynamic header *** refused', is_error: true })],
  [2, 'tool', ev({ role: 'tool', tool_call_id: 'c2', tool_name: 'mcp__local__env', content: ENV, is_error: false }), ''],
];
/** Session s2 has no MCP servers and more old error events than one page holds. */
const MANY = SCRUB_PAGE * 2 + 7;
const S2_BEFORE = ev({ code: 'provider_error', message: 'upstream said: Bearer tok_abcdefgh is invalid' });
const S2_AFTER = ev({ code: 'provider_error', message: 'upstream said: Bearer *** is invalid' });

const after = ([, , before, want]: [number, string, string, string]): string => want || before;
const T = '2026-01-01T00:00:00.000Z';

interface Db {
  run(sql: string, params: unknown[]): Promise<void> | void;
}

/** Writes the old rows through `db` (a database migrated to just before the scrub). */
async function seed(db: Db): Promise<void> {
  await db.run(`INSERT INTO sessions (id, title, created_at, updated_at, working_dir, model, permissions, settings, last_event_seq)
                VALUES ('s1', 't', '${T}', '${T}', '/w', 'm', '{}', $1, ${EVENTS.length})`, [SETTINGS]);
  for (const [seq, type, data] of EVENTS) await db.run(`INSERT INTO events (session_id, seq, type, data, created_at) VALUES ('s1', $1, $2, $3, '${T}')`, [seq, type, data]);
  for (const [idx, role, data] of MESSAGES) await db.run(`INSERT INTO messages (session_id, idx, role, data, created_at) VALUES ('s1', $1, $2, $3, '${T}')`, [idx, role, data]);
  await db.run(`INSERT INTO sessions (id, title, created_at, updated_at, working_dir, model, permissions, last_event_seq)
                VALUES ('s2', 't', '${T}', '${T}', '/w', 'm', '{}', ${MANY})`, []);
  for (let seq = 1; seq <= MANY; seq++) await db.run(`INSERT INTO events (session_id, seq, type, data, created_at) VALUES ('s2', $1, 'error', $2, '${T}')`, [seq, S2_BEFORE]);
}

type Rows = Array<{ session_id: string; key: number | string; data: string }>;

function checkScrubbed(events: Rows, messages: Rows): void {
  const s1 = events.filter((r) => r.session_id === 's1');
  expect(s1.map((r) => [Number(r.key), r.data])).toEqual(EVENTS.map((e) => [e[0], after(e)]));
  expect(messages.map((r) => [Number(r.key), r.data])).toEqual(MESSAGES.map((m) => [m[0], after(m)]));
  const s2 = events.filter((r) => r.session_id === 's2');
  expect(s2).toHaveLength(MANY);
  expect(s2.every((r) => r.data === S2_AFTER)).toBe(true);
}

const EVENTS_SQL = 'SELECT session_id, seq AS key, data FROM events ORDER BY session_id, seq';
const MESSAGES_SQL = "SELECT session_id, idx AS key, data FROM messages WHERE session_id = 's1' ORDER BY idx";

describe('the scrub rule for stored MCP error text', () => {
  it('takes the secrets of every server in the settings, of any shape', () => {
    const secrets = sessionMcpSecrets(SETTINGS);
    for (const secret of [HEADER, ENV, DYN, 'fast']) expect(secrets.some((s) => s.includes(secret))).toBe(true);
    expect(sessionMcpSecrets('{}')).toEqual([]);
    expect(sessionMcpSecrets('not json')).toEqual([]);
    expect(sessionMcpSecrets(JSON.stringify({ mcp: { servers: [{ env: { K: 'odd-secret' }, headers: 'nope' }, 3] } }))).toContain('odd-secret');
  });

  it('rewrites only what changes', () => {
    const secrets = sessionMcpSecrets(SETTINGS);
    for (const [, type, before, want] of EVENTS) expect(scrubbedErrorEventData(type, before, secrets)).toBe(want || undefined);
    for (const [, , before, want] of MESSAGES) expect(scrubbedToolMessageData(before, secrets)).toBe(want || undefined);
    // Not JSON: no reader could parse it either, and it is not the scrub's to repair.
    expect(scrubbedErrorEventData('error', `not json ${ENV}`, secrets)).toBeUndefined();
  });
});

/** A database file as a Tower before migration 36 left it, holding the old rows. */
async function seededSqlite(path: string): Promise<string> {
  const old = new Database(path);
  try {
    runMigrations(old, MIGRATIONS.filter((m) => m.version < 36));
    old.exec('BEGIN');
    await seed({ run: (sql, params) => void old.prepare(sql.replace(/\$\d+/g, '?')).run(...params) });
    old.exec('COMMIT');
  } finally {
    old.close();
  }
  return path;
}

describe('SQLite migration 36', () => {
  const files = sqliteFiles('tower-scrub36-');
  afterEach(files.cleanup);

  it('scrubs old error events, failed tool results and tool messages, and changes nothing else', async () => {
    const path = await seededSqlite(join(files.dir(), 'tower.db'));

    const store = files.track(new SqliteStore(path));
    const raw = new Database(path, { readonly: true });
    try {
      checkScrubbed(raw.prepare(EVENTS_SQL).all() as Rows, raw.prepare(MESSAGES_SQL).all() as Rows);
      expect(raw.prepare<[], { settings: string }>("SELECT settings FROM sessions WHERE id = 's1'").get()?.settings).toBe(SETTINGS);
      expect(raw.prepare<[], { v: number }>('SELECT MAX(version) AS v FROM schema_migrations').get()?.v).toBeGreaterThanOrEqual(36);
    } finally {
      raw.close();
    }
    const read = await store.readEvents('s1', 0, 100);
    expect(read.find((e) => e.seq === 1)?.data).toEqual(JSON.parse(after(EVENTS[0]!)));
  });
});

describe.skipIf(NO_POSTGRES)('Postgres migration 136', () => {
  const schema = uniqueSchema('scrub136');
  beforeAll(assertPostgresReachable);
  afterAll(() => dropSchema(schema));

  it('scrubs old error events, failed tool results and tool messages, and changes nothing else', () =>
    withSchemaClient(schema, async (client) => {
      await runPgMigrations(client, { schema, migrations: PG_MIGRATIONS.filter((m) => m.version < 136) });
      await seed({ run: async (sql, params) => void (await client.query(sql, params)) });
      const store = await PostgresStore.open(TEST_PG_URL, { schema, max: 2 });
      const read = await store.readEvents('s1', 0, 100).finally(() => store.close());
      expect(read.find((e) => e.seq === 1)?.data).toEqual(JSON.parse(after(EVENTS[0]!)));
      checkScrubbed((await client.query(EVENTS_SQL)).rows as Rows, (await client.query(MESSAGES_SQL)).rows as Rows);
      expect((await client.query<{ settings: string }>("SELECT settings FROM sessions WHERE id = 's1'")).rows[0]?.settings).toBe(SETTINGS);
      expect((await client.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v).toBeGreaterThanOrEqual(136);
    }));
});
