/**
 * Messaging tables (migration 20). Other programs may insert rows straight into this file, as agents do in
 * seed 001, so the rules live in triggers rather than in Tower's code:
 * - a thread message inserted without `message_seq` gets its thread's `last_seq + 1` inside the inserting
 *   transaction (SQLite has one writer at a time, so no seq is assigned twice); one inserted with a seq
 *   moves `last_seq` forward, and a duplicate seq fails the insert (UNIQUE);
 * - a message for a thread that does not exist yet creates it (external writers cannot call Tower);
 * - every new message, thread status change and inbox row (and, since migration 30, every new thread) is recorded in `messaging_changes`, whose
 *   AUTOINCREMENT id is the order in which a watcher delivers them.
 */
const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export const MESSAGING_SCHEMA_V20 = `
  CREATE TABLE threads (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'resolved', 'archived')),
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (${NOW}),
    updated_at TEXT NOT NULL DEFAULT (${NOW})
  );
  CREATE INDEX threads_recent ON threads (updated_at DESC, id);

  CREATE TABLE thread_messages (
    pos           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    thread_id     TEXT NOT NULL,
    message_seq   INTEGER,
    created_at    TEXT NOT NULL DEFAULT (${NOW}),
    from_type     TEXT NOT NULL DEFAULT 'agent' CHECK (from_type IN ('human', 'agent', 'broadcast')),
    from_id       TEXT NOT NULL DEFAULT '',
    to_type       TEXT NOT NULL DEFAULT 'broadcast' CHECK (to_type IN ('human', 'agent', 'broadcast')),
    to_id         TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL DEFAULT 'status' CHECK (kind IN ('directive', 'question', 'proposal', 'status', 'result')),
    subject       TEXT,
    content       TEXT NOT NULL,
    metadata_json TEXT,
    UNIQUE (thread_id, message_seq)
  );

  CREATE TRIGGER thread_messages_assign_seq AFTER INSERT ON thread_messages WHEN NEW.message_seq IS NULL
  BEGIN
    INSERT OR IGNORE INTO threads (id) VALUES (NEW.thread_id);
    UPDATE threads SET last_seq = last_seq + 1, updated_at = ${NOW} WHERE id = NEW.thread_id;
    UPDATE thread_messages SET message_seq = (SELECT last_seq FROM threads WHERE id = NEW.thread_id)
      WHERE pos = NEW.pos;
    INSERT INTO messaging_changes (kind, ref, seq)
      VALUES ('thread_message', NEW.thread_id, (SELECT last_seq FROM threads WHERE id = NEW.thread_id));
  END;

  CREATE TRIGGER thread_messages_given_seq AFTER INSERT ON thread_messages WHEN NEW.message_seq IS NOT NULL
  BEGIN
    SELECT RAISE(ABORT, 'message_seq must be positive') WHERE NEW.message_seq < 1;
    INSERT OR IGNORE INTO threads (id) VALUES (NEW.thread_id);
    UPDATE threads SET last_seq = MAX(last_seq, NEW.message_seq), updated_at = ${NOW} WHERE id = NEW.thread_id;
    INSERT INTO messaging_changes (kind, ref, seq) VALUES ('thread_message', NEW.thread_id, NEW.message_seq);
  END;

  CREATE TRIGGER threads_status_changed AFTER UPDATE OF status ON threads WHEN OLD.status IS NOT NEW.status
  BEGIN
    INSERT INTO messaging_changes (kind, ref, seq) VALUES ('thread_state', NEW.id, NULL);
  END;

  CREATE TABLE inbox_messages (
    pos            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    message_id     TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    correlation_id TEXT,
    from_agent     TEXT NOT NULL,
    to_inbox       TEXT NOT NULL,
    message_type   TEXT NOT NULL DEFAULT 'info' CHECK (message_type IN
      ('notification', 'request', 'response', 'completion', 'handoff', 'info', 'approval_request', 'feedback')),
    title          TEXT NOT NULL DEFAULT '',
    payload        TEXT,
    status         TEXT NOT NULL DEFAULT 'unread' CHECK (status IN ('unread', 'read', 'archived')),
    created_at     TEXT NOT NULL DEFAULT (${NOW}),
    updated_at     TEXT NOT NULL DEFAULT (${NOW})
  );
  CREATE INDEX inbox_by_owner ON inbox_messages (to_inbox, pos);
  CREATE INDEX inbox_by_correlation ON inbox_messages (correlation_id);

  CREATE TRIGGER inbox_messages_inserted AFTER INSERT ON inbox_messages
  BEGIN
    INSERT INTO messaging_changes (kind, ref, seq) VALUES ('inbox_message', NEW.id, NULL);
  END;

  CREATE TABLE messaging_changes (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref  TEXT NOT NULL,
    seq  INTEGER
  );

  -- Durable acknowledgements per client identity; target_kind is 'thread' or 'session'.
  CREATE TABLE client_acks (
    client_id   TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('thread', 'session')),
    target_id   TEXT NOT NULL,
    ack_seq     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (client_id, target_kind, target_id)
  ) WITHOUT ROWID;
`;

/**
 * Migration 30: a new thread is recorded in `messaging_changes` too (as a `thread_state` change), however
 * it was made (Tower, a message for an unknown thread, another program's insert), so every watcher (the
 * hub's `threads` topic) learns of it before its first message rather than with it.
 */
export const MESSAGING_THREAD_CREATED_V30 = `
  CREATE TRIGGER threads_inserted AFTER INSERT ON threads
  BEGIN
    INSERT INTO messaging_changes (kind, ref, seq) VALUES ('thread_state', NEW.id, NULL);
  END;
`;
