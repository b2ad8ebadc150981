import type { ConversationMessage, StoredMessage } from '../protocol/conversation.js';
import type { EventType, StoredEvent } from '../protocol/events.js';
import type { FrameFormat, FramedRows } from '../protocol/wire-frames.js';
import type { RawStoredEvent } from '../protocol/wire-json.js';
import type { Permissions, RunnerPlacement, Session, SessionSettings } from '../protocol/session.js';
import type { RunnerTokenStore } from './runner-tokens.js';
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
} from '../protocol/messaging.js';

/** A session as stored. `status` is not stored: it is live state owned by the session manager. */
export type SessionRecord = Omit<Session, 'status'>;

/** Fields a commit may change on a session row. Counters are added, not set. */
export interface SessionPatch {
  title?: string;
  model?: string;
  starred?: boolean;
  permissions?: Permissions;
  /** Replaces the executor settings (sandbox, network) as a whole. */
  settings?: SessionSettings;
  /** null: back to the server. */
  runner?: RunnerPlacement | null;
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
  /**
   * The rows of those of `ids` that exist, in one read (one statement, so one consistent view of them),
   * in no particular order; unknown ids are left out and a repeated id gives one row. What a reader of
   * many sessions at once (the instance bus at 500 turn ends) needs instead of one `getSession` each.
   */
  getSessions(ids: readonly string[]): Promise<SessionRecord[]>;
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
  /**
   * The same rows as `readEvents`, with `data` left as its stored JSON text (catch-up reads build wire
   * frames from it without parsing).
   */
  readEventsRaw(sessionId: string, afterSeq: number, limit: number): Promise<RawStoredEvent[]>;
  /**
   * The rows `readEventsRaw` gives, as one run of frames in `format`, byte-identical to
   * `framedRows(sessionId, rows, format)`, in one read: built by the store where it can (SQLite, in SQL),
   * else framed from its raw rows.
   */
  readEventFrames(sessionId: string, afterSeq: number, limit: number, format: FrameFormat): Promise<FramedRows>;
  /** Highest seq of the session (0 when none); undefined for an unknown session. */
  lastSeq(sessionId: string): Promise<number | undefined>;

  /** The conversation in index order; with `afterIndex`, only the messages past it (a reader's tail). */
  listMessages(sessionId: string, afterIndex?: number): Promise<StoredMessage[]>;
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

  /**
   * The messaging tables (threads, inboxes, acks; seed 001), when the backend has them. Optional so that
   * wrappers of a Store used in tests keep compiling; every real backend provides it and passes
   * `describeMessagingConformance` (src/store/conformance-messaging.ts).
   */
  readonly messaging?: MessagingStore;

  /** Runner tokens (remote runners), when the backend keeps them. */
  runnerTokens?(): RunnerTokenStore;

  close(): Promise<void>;
}

/**
 * Threads, inbox messages and client acks. Other programs may write messages straight into the backend's
 * storage (seed 001's agents do); a backend assigns their `message_seq` itself and reports their changes
 * through `watch` like its own. Methods throw `TowerError` (`not_found`, `conflict`, `invalid_request`).
 */
export interface MessagingStore {
  /** Throws `conflict` if the id exists. */
  createThread(thread: { id: string; title: string; status?: ThreadStatus }): Promise<Thread>;
  getThread(id: string): Promise<Thread | undefined>;
  /** Most recently updated first. */
  listThreads(opts: { status?: ThreadStatus; limit: number }): Promise<Thread[]>;
  /** Throws `not_found` for an unknown thread. Setting the current status changes nothing. */
  setThreadStatus(id: string, status: ThreadStatus): Promise<Thread>;
  /**
   * Appends a message: its `message_seq` is the thread's `last_seq + 1`, assigned in the inserting
   * transaction together with the thread's new `last_seq`. Throws `not_found` for an unknown thread.
   */
  postThreadMessage(threadId: string, message: NewThreadMessage): Promise<{ message: ThreadMessage; thread: Thread }>;
  /** Messages with message_seq > afterSeq, ascending, at most `limit`. Empty for an unknown thread. */
  readThreadMessages(threadId: string, afterSeq: number, limit: number): Promise<ThreadMessage[]>;

  /** Stores an unread inbox message; `message_id` is generated when absent. */
  insertInboxMessage(message: NewInboxMessage): Promise<InboxMessage>;
  getInboxMessage(id: string): Promise<InboxMessage | undefined>;
  /** One inbox, oldest first, optionally one status only. */
  listInbox(inbox: string, opts: { status?: InboxStatus; limit: number }): Promise<InboxMessage[]>;
  /** Throws `not_found` for an unknown message. */
  setInboxStatus(id: string, status: InboxStatus): Promise<InboxMessage>;

  /** The client's last acknowledged seq for the target, 0 when it never acknowledged. */
  getAck(clientId: string, target: AckTarget): Promise<number>;
  /** Stores the ack unless an equal or higher one is stored (acks never move backwards); returns the stored one. */
  setAck(clientId: string, target: AckTarget, ackSeq: number): Promise<number>;

  /**
   * Calls `listener` with every messaging change committed after the call (new thread messages, thread
   * status changes, new inbox messages), in commit order, including rows other processes wrote into the
   * storage. SQLite checks `PRAGMA data_version` on a short timer and reads a trigger-fed change table, so
   * an idle watcher costs one pragma call per tick. Returns the unwatch.
   */
  watch(listener: (changes: MessagingChange[]) => void): () => void;
}
