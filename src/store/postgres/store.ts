import pg from 'pg';
import type { StoredMessage } from '../../protocol/conversation.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import type { StoredEvent } from '../../protocol/events.js';
import { framedRows, type FrameFormat, type FramedRows } from '../../protocol/wire-frames.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { spliceFlag } from '../../protocol/wire-splice.js';
import { decodeCursor, encodeCursor } from '../sqlite/cursor.js';
import type { CommitEntry, CommitResult, SessionPage, SessionRecord, Snapshot, Store } from '../types.js';
import { commitBatch } from './commit.js';
import { PgFrames, pageRows } from './frames.js';
import { PgCommitMarks, backendPid } from './commit-marks.js';
import { PgMessaging } from './messaging.js';
import { PgChangeFeed } from './messaging-watch.js';
import type { FenceSource } from './lease.js';
import { runPgMigrations } from './migrations.js';
import { PgRunnerTokens } from './runner-tokens.js';
import { checkImport } from '../import-check.js';
import {
  PG_SESSION_COLUMNS,
  PG_SESSION_PLACEHOLDERS,
  fromPgText,
  pgText,
  eventFromPg,
  messageFromPg,
  rawEventFromPg,
  sessionFromPg,
  sessionParams,
  type PgEventRow,
  type PgMessageRow,
  type PgSessionRow,
} from './rows.js';

export interface PostgresStoreOptions {
  /** Schema to use (created if absent) instead of the connection's default search_path. */
  schema?: string;
  /** Pool size. Default 10. */
  max?: number;
}

/** A page's rows, planned the one way that reads at most the limit's rows (`PAGE_ROWS`, frames.ts). Named: parsed once per connection. */
export const READ_EVENTS = {
  name: 'tower_read_events',
  text: `SELECT seq, type, data, created_at FROM events ${pageRows(2, 3)}`,
};
/** The rows of a page read checked (framed in JS), with their splice flags. */
export const READ_CHECKED = {
  name: 'tower_read_checked',
  text: `SELECT seq, type, data, created_at, splice FROM events ${pageRows(2, 3)}`,
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The cluster Store on PostgreSQL: the same semantics as SQLite (and the same conformance suite). Every
 * multi-statement method runs in one transaction on one pooled connection; seqs are assigned under the
 * session row's lock, so any number of nodes may commit to one database.
 */
export class PostgresStore implements Store {
  private closed = false;
  /** Threads, inboxes and acks (migration 110); watchers hear every node's writes (LISTEN/NOTIFY). */
  readonly messaging: PgMessaging;
  private fence: FenceSource | undefined;
  private readonly marks = new PgCommitMarks();
  private readonly frames = new PgFrames();

  private constructor(
    readonly pool: pg.Pool,
    listenConfig: pg.ClientConfig,
    schema: string | undefined,
  ) {
    const guard = <T>(work: () => Promise<T>): Promise<T> => this.guard(work);
    this.messaging = new PgMessaging(pool, new PgChangeFeed(pool, listenConfig, schema), guard, (work) => this.transaction(work));
  }

  /**
   * Fences this node's commits with its session leases (issue 15): every commit to a session whose
   * token `fence` knows checks it in the transaction and fails with `session_busy` once it is stale.
   */
  useFence(fence: FenceSource | undefined): void {
    this.fence = fence;
  }

  /** Connects, creates the schema if asked, and migrates (under an advisory lock). */
  static async open(connectionString: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
      throw new TowerError('invalid_request', `invalid schema name ${JSON.stringify(opts.schema)}`);
    }
    const connection: pg.ClientConfig = { connectionString, ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}) };
    const pool = new pg.Pool({ ...connection, max: opts.max ?? 10 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    // Nor may a checked-out client's: a connection that dies under a query fails that query (the caller
    // sees it), and `pg` also emits 'error' on the client, which unheard would be an uncaught exception.
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      const client = await pool.connect();
      try {
        await runPgMigrations(client, opts.schema ? { schema: opts.schema } : {});
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw new TowerError('internal', `postgres: cannot open store: ${(err as Error).message}`, { cause: err });
    }
    return new PostgresStore(pool, connection, opts.schema);
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.guard(async () => {
      const row = sessionParams({ ...session, last_event_seq: 0, message_count: 0 });
      const r = await this.pool.query(
        `INSERT INTO sessions (${PG_SESSION_COLUMNS}) VALUES (${PG_SESSION_PLACEHOLDERS})
         ON CONFLICT (id) DO NOTHING`,
        row,
      );
      if (r.rowCount === 0) throw new TowerError('conflict', `session ${session.id} already exists`, { session_id: session.id });
    });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<PgSessionRow>(`SELECT ${PG_SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id]);
      return rows[0] ? sessionFromPg(rows[0]) : undefined;
    });
  }

  async getSessions(ids: readonly string[]): Promise<SessionRecord[]> {
    if (ids.length === 0) return [];
    return this.guard(async () => {
      const { rows } = await this.pool.query<PgSessionRow>(`SELECT ${PG_SESSION_COLUMNS} FROM sessions WHERE id = ANY($1::text[])`, [[...ids]]);
      return rows.map(sessionFromPg);
    });
  }

  async listSessions(opts: { limit: number; cursor?: string }): Promise<SessionPage> {
    return this.guard(async () => {
      const { limit } = opts;
      if (!Number.isInteger(limit) || limit < 1) throw new TowerError('invalid_request', 'limit must be a positive integer');
      const { rows } =
        opts.cursor === undefined
          ? await this.pool.query<PgSessionRow>(
              `SELECT ${PG_SESSION_COLUMNS} FROM sessions ORDER BY created_at DESC, id DESC LIMIT $1`,
              [limit + 1],
            )
          : await (() => {
              const c = decodeCursor(opts.cursor);
              return this.pool.query<PgSessionRow>(
                `SELECT ${PG_SESSION_COLUMNS} FROM sessions
                 WHERE (created_at, id) < ($1, $2)
                 ORDER BY created_at DESC, id DESC LIMIT $3`,
                [c.created_at, c.id, limit + 1],
              );
            })();
      const items = rows.slice(0, limit).map(sessionFromPg);
      const last = items[items.length - 1];
      const page: SessionPage = { items };
      if (rows.length > limit && last) page.next_cursor = encodeCursor(last);
      return page;
    });
  }

  async listSessionIds(): Promise<string[]> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM sessions ORDER BY id');
      return rows.map((r) => r.id);
    });
  }

  async listSessionsWithState(keys: string[]): Promise<string[]> {
    return this.guard(async () => {
      if (keys.length === 0) return [];
      const { rows } = await this.pool.query<{ session_id: string }>(
        // COLLATE "C": ascending id in byte order, as SQLite and listSessionIds give it.
        'SELECT DISTINCT session_id COLLATE "C" AS session_id FROM session_state WHERE key = ANY($1::text[]) ORDER BY 1',
        [keys],
      );
      return rows.map((r) => r.session_id);
    });
  }

  async commit(entries: CommitEntry[]): Promise<CommitResult[]> {
    if (entries.length === 0) return [];
    const id = this.marks.take();
    try {
      return await this.guard(() => this.markedCommit(entries, id));
    } finally {
      this.marks.answered(id);
    }
  }

  /**
   * `transaction(commitBatch)` plus the commit's mark: a COMMIT whose answer is lost is looked up by
   * its mark (commit-marks.ts) and, if it landed, answered with the results built before it.
   */
  private async markedCommit(entries: CommitEntry[], id: number): Promise<CommitResult[]> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      let results: CommitResult[];
      try {
        results = await commitBatch(client, entries, this.fence);
        await this.marks.record(client, id);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        broken = true;
        const landed = await this.marks.landed(this.pool, backendPid(client), id).catch(() => undefined);
        if (landed) return results;
        if (landed === false) throw err;
        // Its own code: group commit must not retry this batch (it may be stored), and callers are told so.
        throw new TowerError(
          'commit_outcome_unknown',
          `postgres: COMMIT unanswered and its outcome unknown (the database is unreachable): ${(err as Error).message}`,
          { cause: err, sessions: [...new Set(entries.map((e) => e.session_id))] },
        );
      }
      return results;
    } finally {
      client.release(broken);
    }
  }

  async readEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.guard(async () => {
      if (limit <= 0) return [];
      const { rows } = await this.pool.query<PgEventRow>({ ...READ_EVENTS, values: [sessionId, afterSeq, limit] });
      return rows.map((r) => eventFromPg(sessionId, r));
    });
  }

  async readEventsRaw(sessionId: string, afterSeq: number, limit: number): Promise<RawStoredEvent[]> {
    return this.guard(async () => {
      if (limit <= 0) return [];
      const { rows } = await this.pool.query<PgEventRow>({ ...READ_EVENTS, values: [sessionId, afterSeq, limit] });
      return rows.map((r) => rawEventFromPg(sessionId, r));
    });
  }

  /**
   * Built by PostgreSQL for a page of flagged rows (frames.ts); any other page is read with its rows'
   * flags and framed in JS, row by row (`rawWireJsonOf` checks each payload as it splices it).
   */
  async readEventFrames(sessionId: string, afterSeq: number, limit: number, format: FrameFormat): Promise<FramedRows> {
    return this.guard(async () => {
      const built = await this.frames.read(this.pool, sessionId, afterSeq, limit, format);
      if (built) return built;
      const { rows } = await this.pool.query<PgEventRow & { splice: boolean | null }>({ ...READ_CHECKED, values: [sessionId, afterSeq, limit] });
      const last = rows[rows.length - 1];
      if (last) this.frames.checked(sessionId, Number(last.seq), rows.every((r) => r.splice === true));
      return framedRows(sessionId, rows.map((r) => rawEventFromPg(sessionId, r)), format);
    });
  }

  async lastSeq(sessionId: string): Promise<number | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<{ s: string }>('SELECT last_event_seq AS s FROM sessions WHERE id = $1', [sessionId]);
      return rows[0] ? Number(rows[0].s) : undefined;
    });
  }

  async listMessages(sessionId: string, afterIndex?: number): Promise<StoredMessage[]> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<PgMessageRow>(
        'SELECT idx, data, created_at FROM messages WHERE session_id = $1 AND idx > $2 ORDER BY idx',
        [sessionId, afterIndex ?? -1],
      );
      return rows.map(messageFromPg);
    });
  }

  async snapshot(sessionId: string): Promise<Snapshot | undefined> {
    return this.guard(() =>
      // One snapshot of the database for both reads: no commit can land between the row and the messages.
      this.transaction(async (client) => {
        const { rows } = await client.query<PgSessionRow>(`SELECT ${PG_SESSION_COLUMNS} FROM sessions WHERE id = $1`, [sessionId]);
        if (!rows[0]) return undefined;
        const msgs = await client.query<PgMessageRow>(
          'SELECT idx, data, created_at FROM messages WHERE session_id = $1 ORDER BY idx',
          [sessionId],
        );
        return { session: sessionFromPg(rows[0]), messages: msgs.rows.map(messageFromPg) };
      }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'),
    );
  }

  async importSession(session: SessionRecord, messages: StoredMessage[], events: StoredEvent[]): Promise<void> {
    await this.guard(async () => {
      checkImport(messages, events);
      const last = events[events.length - 1];
      const row = sessionParams({ ...session, message_count: messages.length, last_event_seq: last ? last.seq : 0 });
      await this.transaction(async (client) => {
        const r = await client.query(
          `INSERT INTO sessions (${PG_SESSION_COLUMNS}) VALUES (${PG_SESSION_PLACEHOLDERS})
           ON CONFLICT (id) DO NOTHING`,
          row,
        );
        if (r.rowCount === 0) throw new TowerError('conflict', `session ${session.id} already exists`, { session_id: session.id });
        if (messages.length > 0) {
          await client.query(
            `INSERT INTO messages (session_id, idx, role, data, created_at)
             SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
            [session.id, messages.map((m) => m.index), messages.map((m) => m.message.role), messages.map((m) => JSON.stringify(m.message)), messages.map((m) => m.created_at)],
          );
        }
        if (events.length > 0) {
          const data = events.map((e) => JSON.stringify(e.data));
          await client.query(
            `INSERT INTO events (session_id, seq, type, data, created_at, splice)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::boolean[])`,
            [session.id, events.map((e) => e.seq), events.map((e) => e.type), data, events.map((e) => e.timestamp), events.map((e, i) => spliceFlag(data[i] as string, e.type, e.timestamp) === 1)],
          );
        }
      });
    });
  }

  async getState(sessionId: string, key: string): Promise<string | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<{ value: string }>(
        'SELECT value FROM session_state WHERE session_id = $1 AND key = $2',
        [sessionId, key],
      );
      return rows[0] ? fromPgText(rows[0].value) : undefined;
    });
  }

  async setState(sessionId: string, key: string, value: string | undefined): Promise<void> {
    await this.guard(async () => {
      if (value === undefined) {
        await this.pool.query('DELETE FROM session_state WHERE session_id = $1 AND key = $2', [sessionId, key]);
        return;
      }
      // The EXISTS guard turns a missing session into "0 rows" instead of a foreign-key error.
      const r = await this.pool.query(
        `INSERT INTO session_state (session_id, key, value)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)
         ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
        [sessionId, key, pgText(value)],
      );
      if (r.rowCount === 0) throw new TowerError('unknown_session', `unknown session ${sessionId}`, { session_id: sessionId });
    });
  }

  async compareAndSetState(
    sessionId: string,
    key: string,
    expected: string | undefined,
    value: string | undefined,
  ): Promise<boolean> {
    return this.guard(() =>
      this.transaction(async (client) => {
        // The session row's lock serializes this with every commit to the session (their UPDATE takes
        // it too) and with other compare-and-sets, so the read below cannot go stale before the write.
        const locked = await client.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [sessionId]);
        if (locked.rowCount === 0) {
          throw new TowerError('unknown_session', `unknown session ${sessionId}`, { session_id: sessionId });
        }
        const { rows } = await client.query<{ value: string }>(
          'SELECT value FROM session_state WHERE session_id = $1 AND key = $2',
          [sessionId, key],
        );
        if ((rows[0] ? fromPgText(rows[0].value) : undefined) !== expected) return false;
        if (value === undefined) {
          await client.query('DELETE FROM session_state WHERE session_id = $1 AND key = $2', [sessionId, key]);
        } else {
          await client.query(
            `INSERT INTO session_state (session_id, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
            [sessionId, key, pgText(value)],
          );
        }
        return true;
      }),
    );
  }

  /** Runner tokens (migration 111), shared by every node on this database. */
  runnerTokens(): PgRunnerTokens {
    return new PgRunnerTokens(this.pool, (work) => this.guard(work));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.messaging.stop();
    // Best effort: a mark left behind is a few bytes, dropped by a later close after a day.
    await this.marks.forget(this.pool).catch(() => undefined);
    await this.pool.end();
  }

  /** Runs `work` in one transaction on one connection; any throw rolls it back. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      client.release();
    }
  }

  /** Keeps domain errors and turns driver failures into `internal`, with the cause attached. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new TowerError('internal', 'store is closed');
    try {
      return await work();
    } catch (err) {
      if (isTowerError(err)) throw err;
      throw new TowerError('internal', `postgres: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}

export function openPostgresStore(url: string, opts?: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(url, opts);
}
