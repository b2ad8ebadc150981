import type pg from 'pg';
import { MCP_DATA_LIKE, MCP_SETTINGS_EVENT, SCRUB_PAGE, SCRUB_START, scrubPage, type ScrubCursor } from '../mcp-event-scrub.js';
import { scrubStoredMcpErrorsPg } from './scrub-errors.js';
import { PG_MESSAGING_SCHEMA_V110, PG_RUNNER_TOKENS_V111, PG_THREAD_CREATED_V130 } from './messaging-schema.js';

export interface PgMigration {
  version: number;
  /** Schema changes; a data migration may have none. */
  sql?: string;
  /** A data migration, run after `sql` in the same transaction. */
  run?: (client: pg.ClientBase) => Promise<void>;
}

/**
 * Schema history, oldest first; never edit an applied one. Timestamps are TEXT, as in SQLite: the Store
 * round-trips the exact ISO strings it was given, and ordering by them is ordering by time. The listing
 * keys use byte order (COLLATE "C"), as SQLite does, whatever the database's locale.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sessions (
        id             TEXT COLLATE "C" PRIMARY KEY,
        title          TEXT NOT NULL,
        created_at     TEXT COLLATE "C" NOT NULL,
        updated_at     TEXT NOT NULL,
        working_dir    TEXT NOT NULL,
        model          TEXT NOT NULL,
        permissions    TEXT NOT NULL,
        starred        BOOLEAN NOT NULL DEFAULT false,
        input_tokens   BIGINT NOT NULL DEFAULT 0,
        output_tokens  BIGINT NOT NULL DEFAULT 0,
        cost           DOUBLE PRECISION NOT NULL DEFAULT 0,
        message_count  INTEGER NOT NULL DEFAULT 0,
        last_event_seq BIGINT NOT NULL DEFAULT 0
      );
      CREATE INDEX sessions_newest ON sessions (created_at DESC, id DESC);
      CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq        BIGINT NOT NULL,
        type       TEXT NOT NULL,
        data       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      );
      CREATE TABLE messages (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        idx        INTEGER NOT NULL,
        role       TEXT NOT NULL,
        data       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, idx)
      );
      CREATE TABLE session_state (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        PRIMARY KEY (session_id, key)
      );
      -- Tower nodes sharing this database, each heartbeating; see nodes.ts.
      CREATE TABLE nodes (
        id           TEXT PRIMARY KEY,
        bus          TEXT NOT NULL,
        started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
    `,
  },
  {
    // Per-session executor settings (sandbox, network) as JSON, like SQLite migration 3 (same number).
    version: 3,
    sql: `ALTER TABLE sessions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    // Where the session's tools run (remote runner labels), JSON or NULL, like SQLite migration 11.
    version: 11,
    sql: `ALTER TABLE sessions ADD COLUMN runner TEXT;`,
  },
  {
    // Session leases (issue 15, lease.ts). Postgres-only, numbered from 101 so SQLite's numbers stay free
    // for mirroring. No foreign key: a node may claim a session before (or after) its row exists here.
    version: 101,
    sql: `
      CREATE SEQUENCE session_lease_tokens;
      CREATE TABLE session_leases (
        session_id TEXT COLLATE "C" PRIMARY KEY,
        owner      TEXT NOT NULL,
        token      BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  // Threads, inboxes, acks and their change feed (issue 15; SQLite's migration 20). 110-119 are messaging's.
  { version: 110, sql: PG_MESSAGING_SCHEMA_V110 },
  // Runner tokens (SQLite's migration 10).
  { version: 111, sql: PG_RUNNER_TOKENS_V111 },
  {
    // The node holding each lease (issue 15 ownership): where a command for a running session is
    // forwarded. Empty for leases taken without one (a single node).
    version: 120,
    sql: `ALTER TABLE session_leases ADD COLUMN node TEXT NOT NULL DEFAULT '';`,
  },
  // A new thread is a messaging change (SQLite's migration 30).
  { version: 130, sql: PG_THREAD_CREATED_V130 },
  // MCP secrets out of `session_updated` events written before events carried them redacted (SQLite 35).
  { version: 135, run: scrubStoredMcpSecrets },
  // MCP secrets out of old `error` events, failed tool results and tool messages (SQLite 36). Paged
  // queries: the node's event loop runs between pages, and the store serves only once it is done.
  { version: 136, run: scrubStoredMcpErrorsPg },
  {
    // Commit marks (commit-marks.ts): a commit whose COMMIT got no answer (the connection died) is
    // looked up here instead of being retried into duplicates. Rows live while their commit is unanswered.
    version: 137,
    sql: `
      CREATE TABLE commit_marks (
        writer     TEXT NOT NULL,
        id         BIGINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (writer, id)
      );
    `,
  },
  {
    // Each event's splice flag (protocol/wire-splice.ts; SQLite 37), decided when the row is written,
    // so catch-up pages built by the store need not check their payloads; NULL for older rows (checked).
    // A rewrite of a row's text forgets its flag.
    version: 138,
    sql: `
      ALTER TABLE events ADD COLUMN splice BOOLEAN;
      CREATE FUNCTION events_splice_stale() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.splice := NULL;
        RETURN NEW;
      END $$;
      CREATE TRIGGER events_splice_stale BEFORE UPDATE OF type, data, created_at ON events
        FOR EACH ROW EXECUTE FUNCTION events_splice_stale();
    `,
  },
];

/** Any constant: every Tower node migrating the same database takes the same lock. */
const MIGRATION_LOCK = 7_420_001;

/**
 * Applies every migration newer than the database's version. Nodes starting together serialize on a
 * session-level advisory lock (held across the transactions), so a migration is applied exactly once
 * and a late node finds the schema complete. Returns the versions applied.
 */
export async function runPgMigrations(
  client: pg.ClientBase,
  opts: { schema?: string; migrations?: readonly PgMigration[] } = {},
): Promise<number[]> {
  const migrations = opts.migrations ?? PG_MIGRATIONS;
  for (let i = 1; i < migrations.length; i++) {
    if ((migrations[i]?.version ?? 0) <= (migrations[i - 1]?.version ?? 0)) throw new Error('migrations out of order');
  }
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    // Under the lock too: concurrent CREATE SCHEMA IF NOT EXISTS can still collide in the catalog.
    if (opts.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    const from = rows[0]?.v ?? 0;
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= from) continue;
      await client.query('BEGIN');
      try {
        if (m.sql) await client.query(m.sql);
        await m.run?.(client);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

/** Migration 135: page by page (keyset on the primary key), rewriting only the events that held a secret. */
async function scrubStoredMcpSecrets(client: pg.ClientBase): Promise<void> {
  for (let at: ScrubCursor | undefined = SCRUB_START; at; ) {
    const result: pg.QueryResult<{ session_id: string; seq: string; data: string }> = await client.query(
      `SELECT session_id, seq, data FROM events
       WHERE type = $1 AND data LIKE $2 AND (session_id, seq) > ($3, $4::bigint)
       ORDER BY session_id, seq LIMIT ${SCRUB_PAGE}`,
      [MCP_SETTINGS_EVENT, MCP_DATA_LIKE, at.session_id, at.seq],
    );
    const writes: Array<[string, string, string]> = [];
    at = scrubPage(result.rows, (row, data) => writes.push([data, row.session_id, row.seq]));
    for (const args of writes) await client.query('UPDATE events SET data = $1 WHERE session_id = $2 AND seq = $3', args);
  }
}
