import type Database from 'better-sqlite3';
import { SESSION_COLUMNS } from './session-row.js';

/**
 * A session's head (its last seq and when it last changed) lives in two places: the `sessions` row and
 * the `events` table. A commit whose entries only append events (most of them: streamed tokens, tool
 * output) does not rewrite the session row, because a second b-tree page per transaction is what made a
 * one-event commit cost ~1.6x the bare insert (bench/RESULTS.md, "append serial"). The row's
 * `last_event_seq` and `updated_at` may therefore lag behind the events; every read takes the head as
 * the greater of the two, in the same statement, so no reader (nor the next commit, which reads it
 * inside its own transaction) can see a stale head, whatever was written, imported, forked or deleted
 * in between. `message_count` and the rest of the row still change only with the row, in the same
 * transaction as the events that changed them.
 *
 * Why this holds: the row is written by every batch that touches it (messages, patches, counters) with
 * the head it computed; events past the row's `last_event_seq` were therefore all committed after that,
 * by event-only batches, and the newest of them carries the newest batch's timestamp, which is exactly
 * what `updated_at` held when every batch rewrote the row. Events are never deleted without their
 * session (ON DELETE CASCADE), so the greater of the two never goes back.
 */

/** The newest event's seq of session `s.id`, 0 if none (one index seek: the min/max optimisation). */
const LAST_EVENT = 'COALESCE((SELECT MAX(e.seq) FROM events e WHERE e.session_id = s.id), 0)';

/** The head's timestamp: the newest event's when it is past the row's seq, else the row's own. */
const UPDATED_AT = `COALESCE((SELECT e.created_at FROM events e WHERE e.session_id = s.id AND e.seq > s.last_event_seq
  ORDER BY e.seq DESC LIMIT 1), s.updated_at)`;

/** The head seq of the session whose row is `sessions s` (an SQL expression). */
export const HEAD_SEQ = `MAX(s.last_event_seq, ${LAST_EVENT})`;

const DERIVED: Record<string, string> = {
  updated_at: `${UPDATED_AT} AS updated_at`,
  last_event_seq: `${HEAD_SEQ} AS last_event_seq`,
};

/** `SESSION_COLUMNS` as read from `sessions s`, with the head derived as above. */
export const SESSION_SELECT = SESSION_COLUMNS.split(', ')
  .map((c) => DERIVED[c] ?? `s.${c}`)
  .join(', ');

/**
 * Writes the derived head back into every row that lags (one statement). Run when the store opens and
 * closes, so a file at rest holds exact rows for anything reading the table directly (an older Tower,
 * `sqlite3`); correctness while running does not depend on it.
 */
export function settleHeads(db: Database.Database): number {
  return db
    .prepare(
      `UPDATE sessions AS s SET updated_at = ${UPDATED_AT}, last_event_seq = ${LAST_EVENT}
       WHERE s.last_event_seq < ${LAST_EVENT}`,
    )
    .run().changes;
}
