import type pg from 'pg';
import { TowerError } from '../../protocol/errors.js';
import type {
  AckTarget,
  InboxMessage,
  InboxStatus,
  MessagingChange,
  NewInboxMessage,
  NewThreadMessage,
  Thread,
  ThreadMessage,
  ThreadStatus,
} from '../../protocol/messaging.js';
import {
  ackKey,
  inboxFromRow,
  messageFromRow,
  positiveLimit,
  threadFromRow,
  type InboxRow,
  type MessageRow,
  type ThreadRow,
} from '../sqlite/messaging-rows.js';
import type { MessagingStore } from '../types.js';
import { PgChangeFeed } from './messaging-watch.js';
import { fromPgText, pgText, pgTextOrNull } from './rows.js';

type Guard = <T>(work: () => Promise<T>) => Promise<T>;
type Transaction = <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

/** Rows as `pg` returns them: SQLite's row shapes with BIGINT as strings, free text possibly escaped (rows.ts `pgText`). */
type PgThreadRow = Omit<ThreadRow, 'last_seq'> & { last_seq: string };
type PgMessageRow = Omit<MessageRow, 'message_seq'> & { message_seq: string };
type PgInboxRow = InboxRow;

const THREAD = 'id, title, status, last_seq, created_at, updated_at';
const MESSAGE = 'id, thread_id, message_seq, created_at, from_type, from_id, to_type, to_id, kind, subject, content, metadata_json';
const INBOX = 'id, message_id, correlation_id, from_agent, to_inbox, message_type, title, payload, status, created_at, updated_at';

const orNull = (s: string | null): string | null => (s === null ? null : fromPgText(s));
const thread = (r: PgThreadRow): Thread => threadFromRow({ ...r, title: fromPgText(r.title), last_seq: Number(r.last_seq) });
const message = (r: PgMessageRow): ThreadMessage =>
  messageFromRow({ ...r, message_seq: Number(r.message_seq), content: fromPgText(r.content), subject: orNull(r.subject) });
const inbox = (r: PgInboxRow): InboxMessage => inboxFromRow({ ...r, title: fromPgText(r.title), payload: orNull(r.payload) });

/**
 * The messaging half of the Postgres store, on its pool: the same behaviour as SQLite's
 * (`describeMessagingConformance`), with seqs and the change feed kept by triggers (messaging-schema.ts),
 * so any node, and any program writing the tables, is seen by every node's watchers (messaging-watch.ts).
 */
export class PgMessaging implements MessagingStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly feed: PgChangeFeed,
    private readonly guard: Guard,
    private readonly transaction: Transaction,
  ) {}

  async createThread(t: { id: string; title: string; status?: ThreadStatus }): Promise<Thread> {
    return this.write(async () => {
      const now = new Date().toISOString();
      const { rows } = await this.pool.query<PgThreadRow>(
        `INSERT INTO threads (id, title, status, last_seq, created_at, updated_at) VALUES ($1, $2, $3, 0, $4, $4)
         ON CONFLICT (id) DO NOTHING RETURNING ${THREAD}`,
        [t.id, pgText(t.title), t.status ?? 'active', now],
      );
      if (!rows[0]) throw new TowerError('conflict', `thread ${t.id} already exists`, { thread_id: t.id });
      return thread(rows[0]);
    });
  }

  async getThread(id: string): Promise<Thread | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<PgThreadRow>(`SELECT ${THREAD} FROM threads WHERE id = $1`, [id]);
      return rows[0] ? thread(rows[0]) : undefined;
    });
  }

  async listThreads(opts: { status?: ThreadStatus; limit: number }): Promise<Thread[]> {
    return this.guard(async () => {
      const limit = positiveLimit(opts.limit);
      const { rows } = await this.pool.query<PgThreadRow>(
        `SELECT ${THREAD} FROM threads WHERE ($1::text IS NULL OR status = $1) ORDER BY updated_at DESC, id LIMIT $2`,
        [opts.status ?? null, limit],
      );
      return rows.map(thread);
    });
  }

  async setThreadStatus(id: string, status: ThreadStatus): Promise<Thread> {
    return this.write(async () => {
      await this.pool.query('UPDATE threads SET status = $2, updated_at = $3 WHERE id = $1 AND status <> $2', [id, status, new Date().toISOString()]);
      return this.requireThread(this.pool, id);
    });
  }

  async postThreadMessage(threadId: string, m: NewThreadMessage): Promise<{ message: ThreadMessage; thread: Thread }> {
    return this.write(() =>
      this.transaction(async (client) => {
        await this.requireThread(client, threadId);
        // message_seq is left NULL: the trigger assigns it (and locks the thread row), as for external writers.
        const { rows } = await client.query<PgMessageRow>(
          `INSERT INTO thread_messages (thread_id, from_type, from_id, to_type, to_id, kind, subject, content, metadata_json)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${MESSAGE}`,
          [threadId, m.from_type, m.from_id, m.to_type, m.to_id, m.kind, pgTextOrNull(m.subject ?? null), pgText(m.content),
            m.metadata ? JSON.stringify(m.metadata) : null],
        );
        if (!rows[0]) throw new TowerError('internal', 'inserted thread message not returned');
        return { message: message(rows[0]), thread: await this.requireThread(client, threadId) };
      }),
    );
  }

  async readThreadMessages(threadId: string, afterSeq: number, limit: number): Promise<ThreadMessage[]> {
    return this.guard(async () => {
      if (limit <= 0) return [];
      const { rows } = await this.pool.query<PgMessageRow>(
        `SELECT ${MESSAGE} FROM thread_messages WHERE thread_id = $1 AND message_seq > $2 ORDER BY message_seq LIMIT $3`,
        [threadId, Math.max(0, afterSeq), Math.floor(limit)],
      );
      return rows.map(message);
    });
  }

  async insertInboxMessage(m: NewInboxMessage): Promise<InboxMessage> {
    return this.write(async () => {
      const { rows } = await this.pool.query<PgInboxRow>(
        `INSERT INTO inbox_messages (message_id, correlation_id, from_agent, to_inbox, message_type, title, payload, status, created_at, updated_at)
         VALUES (COALESCE($1, tower_random_id()), $2, $3, $4, $5, $6, $7, 'unread', $8, $8) RETURNING ${INBOX}`,
        [m.message_id ?? null, m.correlation_id ?? null, m.from_agent, m.to_inbox, m.message_type, pgText(m.title),
          pgTextOrNull(m.payload ?? null), new Date().toISOString()],
      );
      if (!rows[0]) throw new TowerError('internal', 'inserted inbox message not returned');
      return inbox(rows[0]);
    });
  }

  async getInboxMessage(id: string): Promise<InboxMessage | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<PgInboxRow>(`SELECT ${INBOX} FROM inbox_messages WHERE id = $1`, [id]);
      return rows[0] ? inbox(rows[0]) : undefined;
    });
  }

  async listInbox(owner: string, opts: { status?: InboxStatus; limit: number }): Promise<InboxMessage[]> {
    return this.guard(async () => {
      const limit = positiveLimit(opts.limit);
      const { rows } = await this.pool.query<PgInboxRow>(
        `SELECT ${INBOX} FROM inbox_messages WHERE to_inbox = $1 AND ($2::text IS NULL OR status = $2) ORDER BY pos LIMIT $3`,
        [owner, opts.status ?? null, limit],
      );
      return rows.map(inbox);
    });
  }

  async setInboxStatus(id: string, status: InboxStatus): Promise<InboxMessage> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<PgInboxRow>(
        `UPDATE inbox_messages SET status = $2, updated_at = $3 WHERE id = $1 RETURNING ${INBOX}`,
        [id, status, new Date().toISOString()],
      );
      if (!rows[0]) throw new TowerError('not_found', `No inbox message with id "${id}"`);
      return inbox(rows[0]);
    });
  }

  async getAck(clientId: string, target: AckTarget): Promise<number> {
    return this.guard(async () => {
      const [kind, ref] = ackKey(target);
      const { rows } = await this.pool.query<{ ack_seq: string }>(
        'SELECT ack_seq FROM client_acks WHERE client_id = $1 AND target_kind = $2 AND target_id = $3',
        [clientId, kind, ref],
      );
      return rows[0] ? Number(rows[0].ack_seq) : 0;
    });
  }

  async setAck(clientId: string, target: AckTarget, ackSeq: number): Promise<number> {
    return this.guard(async () => {
      if (!Number.isSafeInteger(ackSeq) || ackSeq < 0) throw new TowerError('invalid_request', 'ack_seq must be a non-negative integer');
      const [kind, ref] = ackKey(target);
      const { rows } = await this.pool.query<{ ack_seq: string }>(
        `INSERT INTO client_acks (client_id, target_kind, target_id, ack_seq, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (client_id, target_kind, target_id) DO UPDATE
           SET ack_seq = GREATEST(client_acks.ack_seq, excluded.ack_seq), updated_at = excluded.updated_at
         RETURNING ack_seq`,
        [clientId, kind, ref, ackSeq, new Date().toISOString()],
      );
      return rows[0] ? Number(rows[0].ack_seq) : ackSeq;
    });
  }

  watch(listener: (changes: MessagingChange[]) => void): () => void {
    return this.feed.watch(listener);
  }

  /** Stops watching (the store is closing). */
  stop(): void {
    this.feed.stop();
  }

  /** A write waits for a just-begun watch to have its cursor, then wakes this node's watchers at once. */
  private async write<T>(work: () => Promise<T>): Promise<T> {
    await this.feed.settled();
    const result = await this.guard(work);
    this.feed.poke();
    return result;
  }

  private async requireThread(q: pg.Pool | pg.PoolClient, id: string): Promise<Thread> {
    const { rows } = await q.query<PgThreadRow>(`SELECT ${THREAD} FROM threads WHERE id = $1`, [id]);
    if (!rows[0]) throw new TowerError('not_found', `No thread with id "${id}"`, { thread_id: id });
    return thread(rows[0]);
  }
}
