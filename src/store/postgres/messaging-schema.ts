/**
 * Messaging tables on PostgreSQL (migration 110), the same tables and rules as SQLite's migration 20
 * (src/store/sqlite/messaging-schema.ts), so other programs may insert rows straight into them:
 * - a thread message inserted without `message_seq` gets its thread's `last_seq + 1` in a BEFORE trigger;
 *   the trigger's UPDATE of the thread row locks it until commit, so concurrent inserters on any number
 *   of nodes serialize per thread and no seq is assigned twice; a given seq moves `last_seq` forward and
 *   a duplicate fails the insert (UNIQUE); a message for an unknown thread creates it;
 * - every new message, thread status change and inbox row (and, since migration 130, every new thread) is recorded in `messaging_changes`. Its id
 *   comes from a one-row counter updated in the same transaction: the row lock is held until commit, so
 *   ids are committed in increasing order and a watcher reading `id > cursor` never skips one that was
 *   still uncommitted (a sequence could); rolled-back ids are never used;
 * - each change also sends `NOTIFY tower_messaging` with the schema's name, delivered at commit to every
 *   node's listener (src/store/postgres/messaging-watch.ts).
 */
export const PG_MESSAGING_CHANNEL = 'tower_messaging';

export const PG_MESSAGING_SCHEMA_V110 = `
  CREATE FUNCTION tower_now() RETURNS TEXT LANGUAGE sql VOLATILE AS
    $$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
  CREATE FUNCTION tower_random_id() RETURNS TEXT LANGUAGE sql VOLATILE AS
    $$ SELECT replace(gen_random_uuid()::text, '-', '') $$;

  CREATE TABLE threads (
    id         TEXT COLLATE "C" PRIMARY KEY,
    title      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'resolved', 'archived')),
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT tower_now(),
    updated_at TEXT COLLATE "C" NOT NULL DEFAULT tower_now()
  );
  CREATE INDEX threads_recent ON threads (updated_at DESC, id);

  CREATE TABLE thread_messages (
    pos           BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE DEFAULT tower_random_id(),
    thread_id     TEXT COLLATE "C" NOT NULL,
    message_seq   BIGINT,
    created_at    TEXT NOT NULL DEFAULT tower_now(),
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

  CREATE TABLE inbox_messages (
    pos            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE DEFAULT tower_random_id(),
    message_id     TEXT NOT NULL DEFAULT tower_random_id(),
    correlation_id TEXT,
    from_agent     TEXT NOT NULL,
    to_inbox       TEXT NOT NULL,
    message_type   TEXT NOT NULL DEFAULT 'info' CHECK (message_type IN
      ('notification', 'request', 'response', 'completion', 'handoff', 'info', 'approval_request', 'feedback')),
    title          TEXT NOT NULL DEFAULT '',
    payload        TEXT,
    status         TEXT NOT NULL DEFAULT 'unread' CHECK (status IN ('unread', 'read', 'archived')),
    created_at     TEXT NOT NULL DEFAULT tower_now(),
    updated_at     TEXT NOT NULL DEFAULT tower_now()
  );
  CREATE INDEX inbox_by_owner ON inbox_messages (to_inbox, pos);
  CREATE INDEX inbox_by_correlation ON inbox_messages (correlation_id);

  CREATE TABLE messaging_change_counter (one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), last_id BIGINT NOT NULL);
  INSERT INTO messaging_change_counter (last_id) VALUES (0);
  CREATE TABLE messaging_changes (
    id   BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    ref  TEXT NOT NULL,
    seq  BIGINT
  );

  CREATE FUNCTION tower_messaging_change(k TEXT, r TEXT, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE n BIGINT;
  BEGIN
    UPDATE messaging_change_counter SET last_id = last_id + 1 RETURNING last_id INTO n;
    INSERT INTO messaging_changes (id, kind, ref, seq) VALUES (n, k, r, s);
    PERFORM pg_notify('${PG_MESSAGING_CHANNEL}', current_schema());
  END $$;

  CREATE FUNCTION thread_messages_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO threads (id) VALUES (NEW.thread_id) ON CONFLICT (id) DO NOTHING;
    IF NEW.message_seq IS NULL THEN
      UPDATE threads SET last_seq = last_seq + 1, updated_at = tower_now() WHERE id = NEW.thread_id
        RETURNING last_seq INTO NEW.message_seq;
    ELSE
      IF NEW.message_seq < 1 THEN RAISE EXCEPTION 'message_seq must be positive'; END IF;
      UPDATE threads SET last_seq = GREATEST(last_seq, NEW.message_seq), updated_at = tower_now() WHERE id = NEW.thread_id;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER thread_messages_assign_seq BEFORE INSERT ON thread_messages
    FOR EACH ROW EXECUTE FUNCTION thread_messages_assign_seq();

  CREATE FUNCTION thread_messages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tower_messaging_change('thread_message', NEW.thread_id, NEW.message_seq);
    RETURN NULL;
  END $$;
  CREATE TRIGGER thread_messages_changed AFTER INSERT ON thread_messages
    FOR EACH ROW EXECUTE FUNCTION thread_messages_changed();

  CREATE FUNCTION threads_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tower_messaging_change('thread_state', NEW.id, NULL);
    RETURN NULL;
  END $$;
  CREATE TRIGGER threads_status_changed AFTER UPDATE OF status ON threads
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION threads_status_changed();

  CREATE FUNCTION inbox_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tower_messaging_change('inbox_message', NEW.id, NULL);
    RETURN NULL;
  END $$;
  CREATE TRIGGER inbox_messages_inserted AFTER INSERT ON inbox_messages
    FOR EACH ROW EXECUTE FUNCTION inbox_messages_inserted();

  -- Durable acknowledgements per client identity; target_kind is 'thread' or 'session'.
  CREATE TABLE client_acks (
    client_id   TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('thread', 'session')),
    target_id   TEXT NOT NULL,
    ack_seq     BIGINT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (client_id, target_kind, target_id)
  );
`;

/**
 * Migration 130 (SQLite's 30): a new thread is a `thread_state` change too, however it was made, so the
 * other nodes' watchers (their hub `threads` topic) learn of it at once, not with its first message.
 */
export const PG_THREAD_CREATED_V130 = `
  CREATE FUNCTION threads_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tower_messaging_change('thread_state', NEW.id, NULL);
    RETURN NULL;
  END $$;
  CREATE TRIGGER threads_inserted AFTER INSERT ON threads FOR EACH ROW EXECUTE FUNCTION threads_inserted();
`;

/** Runner tokens (migration 111), as SQLite's migration 10: only the token's sha256 is kept. */
export const PG_RUNNER_TOKENS_V111 = `
  CREATE TABLE runner_tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    labels     TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT
  );
`;
