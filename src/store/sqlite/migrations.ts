import type Database from 'better-sqlite3';
import { MCP_DATA_LIKE, MCP_SETTINGS_EVENT, SCRUB_PAGE, SCRUB_START, scrubPage, type ScrubCursor } from '../mcp-event-scrub.js';
import { MESSAGING_SCHEMA_V20, MESSAGING_THREAD_CREATED_V30 } from './messaging-schema.js';
import { scrubStoredMcpErrors } from './scrub-errors.js';

export interface Migration {
  version: number;
  /** Schema changes; a data migration may have none. */
  sql?: string;
  /** A data migration, run after `sql` in the same transaction. */
  run?: (db: Database.Database) => void;
}

/**
 * Schema history, oldest first. Never edit an applied migration: append a new one, so a database opened by
 * an older Tower upgrades in place.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sessions (
        id             TEXT PRIMARY KEY,
        title          TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        working_dir    TEXT NOT NULL,
        model          TEXT NOT NULL,
        permissions    TEXT NOT NULL,
        starred        INTEGER NOT NULL DEFAULT 0,
        input_tokens   INTEGER NOT NULL DEFAULT 0,
        output_tokens  INTEGER NOT NULL DEFAULT 0,
        cost           REAL NOT NULL DEFAULT 0,
        message_count  INTEGER NOT NULL DEFAULT 0,
        last_event_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX sessions_newest ON sessions (created_at DESC, id DESC);

      -- WITHOUT ROWID: the (session_id, seq) key is the only access path, so the row lives in the key's
      -- b-tree and an append is one b-tree insert instead of two.
      CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        type       TEXT NOT NULL,
        data       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      ) WITHOUT ROWID;

      -- A rowid table: messages can be large (whole assistant replies, tool output).
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
      ) WITHOUT ROWID;
    `,
  },
  {
    // Per-session executor settings (sandbox mode, network), JSON so later settings need no migration.
    version: 3,
    sql: `ALTER TABLE sessions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';`,
  },
  {
    // Runner tokens (remote runners, issue 11): only the sha256 of a token is stored; revoked rows stay
    // so a listing can show them, and lookups skip them.
    version: 10,
    sql: `
      CREATE TABLE runner_tokens (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        labels     TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  },
  {
    // Where a session's tools run (remote runners, issue 11): JSON `{labels}` or NULL for the server.
    version: 11,
    sql: `ALTER TABLE sessions ADD COLUMN runner TEXT;`,
  },
  // Versions 20-29 belong to messaging (threads, inboxes, acks).
  { version: 20, sql: MESSAGING_SCHEMA_V20 },
  // A new thread is a messaging change (Postgres's migration 130).
  { version: 30, sql: MESSAGING_THREAD_CREATED_V30 },
  {
    // Where each writer-thread batch landed, written in the batch's own transaction (writer-marks.ts): a
    // thread that dies after COMMIT and before its reply leaves the answer here, so the batch is not
    // committed twice. Rows live only while their batch is unanswered.
    version: 31,
    sql: `
      CREATE TABLE writer_batches (
        writer   TEXT NOT NULL,
        id       INTEGER NOT NULL,
        seqs     BLOB NOT NULL,
        messages BLOB NOT NULL,
        PRIMARY KEY (writer, id)
      ) WITHOUT ROWID;
    `,
  },
  // MCP secrets out of `session_updated` events written before events carried them redacted (Postgres 135).
  { version: 35, run: scrubStoredMcpSecrets },
  // MCP secrets out of old `error` events, failed tool results and tool messages (mcp-error-scrub.ts;
  // Postgres 136). Synchronous like every migration: it runs at open, before the store serves anything.
  { version: 36, run: scrubStoredMcpErrors },
  {
    // Each event's splice flag (protocol/wire-splice.ts), decided when the row is written: a catch-up
    // page whose rows all have it is framed by SQL without its payloads being checked (frames.ts). Rows
    // written before (NULL) are checked as before. A rewrite of a row's text forgets its flag, so no
    // later migration or repair can leave a stale one.
    version: 37,
    sql: `
      ALTER TABLE events ADD COLUMN splice INTEGER;
      CREATE TRIGGER events_splice_stale AFTER UPDATE OF type, data, created_at ON events WHEN NEW.splice IS NOT NULL
      BEGIN
        UPDATE events SET splice = NULL WHERE session_id = NEW.session_id AND seq = NEW.seq;
      END;
    `,
  },
];

/** Highest version in `migrations`; what a fully migrated database reports. */
export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * Applies every migration newer than the database's version, all in one IMMEDIATE transaction: a second
 * process opening the same file waits for the first instead of applying the same migration twice.
 * Returns the versions applied (empty on an up-to-date database).
 */
export function runMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  assertOrdered(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
  )`);
  const current = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  const apply = db.transaction((): number[] => {
    const from = current.get()?.v ?? 0;
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= from) continue;
      if (m.sql) db.exec(m.sql);
      m.run?.(db);
      record.run(m.version, new Date().toISOString());
      applied.push(m.version);
    }
    return applied;
  });
  return apply.immediate();
}

function assertOrdered(migrations: readonly Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1];
    const cur = migrations[i];
    if (prev && cur && cur.version <= prev.version) {
      throw new Error(`migrations out of order: ${cur.version} after ${prev.version}`);
    }
  }
}

/** Migration 35: page by page (keyset on the primary key), rewriting only the events that held a secret. */
function scrubStoredMcpSecrets(db: Database.Database): void {
  const page = db.prepare<[string, string, string, string, number], { session_id: string; seq: number; data: string }>(
    `SELECT session_id, seq, data FROM events
     WHERE type = ? AND data LIKE ? AND (session_id > ? OR (session_id = ? AND seq > ?))
     ORDER BY session_id, seq LIMIT ${SCRUB_PAGE}`,
  );
  const update = db.prepare<[string, string, number]>('UPDATE events SET data = ? WHERE session_id = ? AND seq = ?');
  for (let at: ScrubCursor | undefined = SCRUB_START; at; ) {
    const rows = page.all(MCP_SETTINGS_EVENT, MCP_DATA_LIKE, at.session_id, at.session_id, at.seq);
    at = scrubPage(rows, (row, data) => update.run(data, row.session_id, row.seq));
  }
}
