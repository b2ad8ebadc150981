import type { ConversationMessage, StoredMessage } from '../protocol/conversation.js';
import type { EventType, StoredEvent } from '../protocol/events.js';
import type { Permissions, Session } from '../protocol/session.js';

/** A session as stored. `status` is not stored: it is live state owned by the session manager. */
export type SessionRecord = Omit<Session, 'status'>;

/** Fields a commit may change on a session row. Counters are added, not set. */
export interface SessionPatch {
  title?: string;
  model?: string;
  starred?: boolean;
  permissions?: Permissions;
  add_input_tokens?: number;
  add_output_tokens?: number;
  add_cost?: number;
}

/**
 * One unit of a group commit: an event for one session, and the state changes that must land in the
 * same transaction (so a snapshot never sees an event without its effect, or the reverse).
 */
export interface CommitEntry {
  session_id: string;
  /**
   * Creates the session row (counters at zero) in this transaction, before this entry's event: a session
   * exists with its first event or not at all. Throws `conflict` (with `details.session_id`) if the id exists.
   */
  create_session?: SessionRecord;
  type: EventType;
  data: Record<string, unknown>;
  timestamp: string;
  /** Appended to the session's conversation (its index is assigned by the store). */
  message?: ConversationMessage;
  /** Replaces the last conversation message (an assistant message completed after a partial write). */
  replace_last_message?: ConversationMessage;
  session?: SessionPatch;
  /** Deletes the session, its conversation and its events once this entry's event is assigned a seq. */
  delete_session?: boolean;
  /** Per-session state rows set in the same transaction (null deletes the row). */
  state?: Record<string, string | null>;
  /**
   * Compare-and-set guards for `state`: the commit fails with `conflict` (with `details.session_id`) and
   * writes nothing unless each named row holds the given value (null: absent) when the entry is applied.
   */
  expect_state?: Record<string, string | null>;
  /**
   * `data`, `message` and `replace_last_message` already serialised by the caller (the event log does it
   * before an entry joins a batch, so a value that cannot be serialised fails its own append only). A
   * backend may use these instead of serialising again; they always match the objects.
   */
  encoded?: EncodedEntry;
}

export interface EncodedEntry {
  data: string;
  message?: string;
  replace_last_message?: string;
}

/** What a committed entry became. */
export interface CommitResult {
  event: StoredEvent;
  /** Index of the conversation message written by `message`, if any. */
  message_index?: number;
}

export interface SessionPage {
  items: SessionRecord[];
  /** Pass back as `cursor` for the next (older) page; absent on the last page. */
  next_cursor?: string;
}

export interface Snapshot {
  session: SessionRecord;
  messages: StoredMessage[];
}

/**
 * Storage behind Tower. Every backend (SQLite now, Postgres later) passes the same conformance suite
 * (`src/store/conformance.ts`). Methods throw `TowerError` with domain codes, never transport errors.
 */
export interface Store {
  /** Creates the session row. Throws `conflict` if the id exists. */
  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Newest first (by created_at, then id). */
  listSessions(opts: { limit: number; cursor?: string }): Promise<SessionPage>;
  /** All session ids, for start-up recovery. */
  listSessionIds(): Promise<string[]>;
  /**
   * Ids of sessions that hold at least one of the given state keys (one query, ascending id), so start-up
   * work follows the sessions that need it (open turns, non-empty queues), not all sessions.
   */
  listSessionsWithState(keys: string[]): Promise<string[]>;

  /**
   * Commits entries in one transaction: assigns each event the next seq of its session, stores events,
   * conversation messages and session patches, bumps `updated_at`/`last_event_seq`/`message_count`.
   * Entries for a session that does not exist fail the whole commit with `unknown_session`.
   * Results are in entry order.
   */
  commit(entries: CommitEntry[]): Promise<CommitResult[]>;

  /** Events with seq > afterSeq, ascending, at most `limit`. Empty for an unknown session. */
  readEvents(sessionId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** Highest seq of the session (0 when none); undefined for an unknown session. */
  lastSeq(sessionId: string): Promise<number | undefined>;

  listMessages(sessionId: string): Promise<StoredMessage[]>;
  /** Session row and conversation read in one transaction, so `last_event_seq` matches the messages. */
  snapshot(sessionId: string): Promise<Snapshot | undefined>;

  /**
   * Writes a whole session (import, fork): row, conversation and events with their original seqs, in one
   * transaction. Throws `conflict` if the id exists.
   */
  importSession(session: SessionRecord, messages: StoredMessage[], events: StoredEvent[]): Promise<void>;

  /** Small durable key-value state per session (queues, idempotency keys in later issues). */
  getState(sessionId: string, key: string): Promise<string | undefined>;
  setState(sessionId: string, key: string, value: string | undefined): Promise<void>;
  /**
   * Compare-and-set of one state row: writes `value` (undefined deletes) only if the row currently holds
   * `expected` (undefined: absent). Returns whether it wrote. `unknown_session` if the session is gone.
   * What lets two writers (nodes) change queue state without losing each other's update.
   */
  compareAndSetState(sessionId: string, key: string, expected: string | undefined, value: string | undefined): Promise<boolean>;

  close(): Promise<void>;
}
