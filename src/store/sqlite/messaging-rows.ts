import type Database from 'better-sqlite3';
import { TowerError } from '../../protocol/errors.js';
import {
  InboxMessageType,
  InboxStatus,
  MessageKind,
  PartyType,
  ThreadStatus,
  type AckTarget,
  type InboxMessage,
  type MessagingChange,
  type Thread,
  type ThreadMessage,
} from '../../protocol/messaging.js';

export interface ThreadRow {
  id: string;
  title: string;
  status: string;
  last_seq: number;
  created_at: string;
  updated_at: string;
}

export interface MessageRow {
  id: string;
  thread_id: string;
  message_seq: number;
  created_at: string;
  from_type: string;
  from_id: string;
  to_type: string;
  to_id: string;
  kind: string;
  subject: string | null;
  content: string;
  metadata_json: string | null;
}

export interface InboxRow {
  id: string;
  message_id: string;
  correlation_id: string | null;
  from_agent: string;
  to_inbox: string;
  message_type: string;
  title: string;
  payload: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface ChangeRow {
  id: number;
  kind: string;
  ref: string;
  seq: number | null;
}

interface MessageInsert {
  thread_id: string;
  from_type: string;
  from_id: string;
  to_type: string;
  to_id: string;
  kind: string;
  subject: string | null;
  content: string;
  metadata_json: string | null;
}

interface InboxInsert {
  message_id: string | null;
  correlation_id: string | null;
  from_agent: string;
  to_inbox: string;
  message_type: string;
  title: string;
  payload: string | null;
  now: string;
}

const THREAD = 'id, title, status, last_seq, created_at, updated_at';
const MESSAGE =
  'id, thread_id, message_seq, created_at, from_type, from_id, to_type, to_id, kind, subject, content, metadata_json';
const INBOX =
  'id, message_id, correlation_id, from_agent, to_inbox, message_type, title, payload, status, created_at, updated_at';

export class MessagingStatements {
  readonly insertThread: Database.Statement<[string, string, string, string, string]>;
  readonly getThread: Database.Statement<[string], ThreadRow>;
  readonly listThreads: Database.Statement<[number], ThreadRow>;
  readonly listThreadsByStatus: Database.Statement<[string, number], ThreadRow>;
  readonly setThreadStatus: Database.Statement<[string, string, string]>;
  readonly insertMessage: Database.Statement<[MessageInsert]>;
  readonly messageByPos: Database.Statement<[number], MessageRow>;
  readonly readMessages: Database.Statement<[string, number, number], MessageRow>;
  readonly insertInbox: Database.Statement<[InboxInsert]>;
  readonly inboxByPos: Database.Statement<[number], InboxRow>;
  readonly inboxById: Database.Statement<[string], InboxRow>;
  readonly listInbox: Database.Statement<[string, number], InboxRow>;
  readonly listInboxByStatus: Database.Statement<[string, string, number], InboxRow>;
  readonly setInboxStatus: Database.Statement<[string, string, string]>;
  readonly getAck: Database.Statement<[string, string, string], number>;
  readonly upsertAck: Database.Statement<[string, string, string, number, string], number>;
  readonly maxChange: Database.Statement<[], number | null>;
  readonly changesAfter: Database.Statement<[number, number], ChangeRow>;
  readonly pruneChanges: Database.Statement<[number]>;
  /** Prepared once: `db.pragma()` compiles the statement again on every call, and the watcher polls it every 10 ms. */
  readonly dataVersion: Database.Statement<[], number>;

  constructor(db: Database.Database) {
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.insertThread = db.prepare(
      `INSERT INTO threads (id, title, status, last_seq, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.getThread = db.prepare(`SELECT ${THREAD} FROM threads WHERE id = ?`);
    this.listThreads = db.prepare(`SELECT ${THREAD} FROM threads ORDER BY updated_at DESC, id LIMIT ?`);
    this.listThreadsByStatus = db.prepare(
      `SELECT ${THREAD} FROM threads WHERE status = ? ORDER BY updated_at DESC, id LIMIT ?`,
    );
    this.setThreadStatus = db.prepare('UPDATE threads SET status = ?, updated_at = ? WHERE id = ?');
    this.insertMessage = db.prepare(
      `INSERT INTO thread_messages (thread_id, from_type, from_id, to_type, to_id, kind, subject, content, metadata_json)
       VALUES (@thread_id, @from_type, @from_id, @to_type, @to_id, @kind, @subject, @content, @metadata_json)`,
    );
    this.messageByPos = db.prepare(`SELECT ${MESSAGE} FROM thread_messages WHERE pos = ?`);
    // A row whose seq is still NULL cannot exist after its insert committed (the trigger runs inside it).
    this.readMessages = db.prepare(
      `SELECT ${MESSAGE} FROM thread_messages WHERE thread_id = ? AND message_seq > ? ORDER BY message_seq LIMIT ?`,
    );
    this.insertInbox = db.prepare(
      `INSERT INTO inbox_messages (message_id, correlation_id, from_agent, to_inbox, message_type, title, payload,
         status, created_at, updated_at)
       VALUES (COALESCE(@message_id, lower(hex(randomblob(16)))), @correlation_id, @from_agent, @to_inbox,
         @message_type, @title, @payload, 'unread', @now, @now)`,
    );
    this.inboxByPos = db.prepare(`SELECT ${INBOX} FROM inbox_messages WHERE pos = ?`);
    this.inboxById = db.prepare(`SELECT ${INBOX} FROM inbox_messages WHERE id = ?`);
    this.listInbox = db.prepare(`SELECT ${INBOX} FROM inbox_messages WHERE to_inbox = ? ORDER BY pos LIMIT ?`);
    this.listInboxByStatus = db.prepare(
      `SELECT ${INBOX} FROM inbox_messages WHERE to_inbox = ? AND status = ? ORDER BY pos LIMIT ?`,
    );
    this.setInboxStatus = db.prepare('UPDATE inbox_messages SET status = ?, updated_at = ? WHERE id = ?');
    this.getAck = db
      .prepare<[string, string, string], number>(
        'SELECT ack_seq FROM client_acks WHERE client_id = ? AND target_kind = ? AND target_id = ?',
      )
      .pluck();
    this.upsertAck = db
      .prepare<[string, string, string, number, string], number>(
        `INSERT INTO client_acks (client_id, target_kind, target_id, ack_seq, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (client_id, target_kind, target_id) DO UPDATE
           SET ack_seq = MAX(ack_seq, excluded.ack_seq), updated_at = excluded.updated_at
         RETURNING ack_seq`,
      )
      .pluck();
    this.maxChange = db.prepare<[], number | null>('SELECT MAX(id) FROM messaging_changes').pluck();
    this.changesAfter = db.prepare('SELECT id, kind, ref, seq FROM messaging_changes WHERE id > ? ORDER BY id LIMIT ?');
    this.pruneChanges = db.prepare('DELETE FROM messaging_changes WHERE id <= ?');
  }
}

export function threadFromRow(r: ThreadRow): Thread {
  return {
    id: r.id,
    title: r.title,
    status: ThreadStatus.parse(r.status),
    last_seq: r.last_seq,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export function messageFromRow(r: MessageRow): ThreadMessage {
  const m: ThreadMessage = {
    id: r.id,
    thread_id: r.thread_id,
    message_seq: r.message_seq,
    created_at: r.created_at,
    from_type: PartyType.parse(r.from_type),
    from_id: r.from_id,
    to_type: PartyType.parse(r.to_type),
    to_id: r.to_id,
    kind: MessageKind.parse(r.kind),
    content: r.content,
  };
  if (r.subject !== null) m.subject = r.subject;
  const metadata = parseMetadata(r.metadata_json);
  if (metadata) m.metadata = metadata;
  return m;
}

export function inboxFromRow(r: InboxRow): InboxMessage {
  const m: InboxMessage = {
    id: r.id,
    message_id: r.message_id,
    from_agent: r.from_agent,
    to_inbox: r.to_inbox,
    message_type: InboxMessageType.parse(r.message_type),
    title: r.title,
    status: InboxStatus.parse(r.status),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
  if (r.correlation_id !== null) m.correlation_id = r.correlation_id;
  if (r.payload !== null) m.payload = r.payload;
  return m;
}

/** External writers may put anything in metadata_json: a non-object or broken JSON is kept under `raw`. */
function parseMetadata(text: string | null): Record<string, unknown> | undefined {
  if (text === null || text === '') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { raw: text };
}

/** How an ack target is keyed in `client_acks` (both backends). */
export function ackKey(target: AckTarget): ['thread' | 'session', string] {
  return 'thread_id' in target ? ['thread', target.thread_id] : ['session', target.session_id];
}

/** A listing limit must be a positive integer (both backends). */
export function positiveLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new TowerError('invalid_request', 'limit must be a positive integer');
  return limit;
}

/** A `messaging_changes` row as a change (both backends). */
export function changeFromRow(row: ChangeRow): MessagingChange {
  if (row.kind === 'thread_message') return { id: row.id, kind: 'thread_message', thread_id: row.ref, message_seq: row.seq ?? 0 };
  if (row.kind === 'thread_state') return { id: row.id, kind: 'thread_state', thread_id: row.ref };
  return { id: row.id, kind: 'inbox_message', inbox_message_id: row.ref };
}
