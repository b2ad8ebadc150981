import type Database from 'better-sqlite3';
import { SESSION_SELECT, HEAD_SEQ } from './heads.js';
import { SESSION_COLUMNS, type EventRow, type EventTuple, type MessageRow, type SessionRow } from './rows.js';

/** Every statement outside the commit path, prepared once per connection. */
export class SessionStatements {
  readonly insertSessionIfAbsent: Database.Statement<[SessionRow]>;
  readonly getSession: Database.Statement<[string], SessionRow>;
  /** `getSession` for many ids at once, passed as one JSON array (one prepared statement for any count). */
  readonly getSessions: Database.Statement<[string], SessionRow>;
  readonly listFirst: Database.Statement<[number], SessionRow>;
  readonly listAfter: Database.Statement<[string, string, string, number], SessionRow>;
  readonly listIds: Database.Statement<[], string>;
  readonly lastSeq: Database.Statement<[string], number>;
  readonly readEvents: Database.Statement<[string, number, number], EventRow>;
  /** `readEvents` in raw mode: each row an array `[seq, type, data, created_at]` (no row objects). */
  readonly readEventRows: Database.Statement<[string, number, number], EventTuple>;
  readonly listMessages: Database.Statement<[string], MessageRow>;
  readonly listMessagesAfter: Database.Statement<[string, number], MessageRow>;
  readonly insertMessage: Database.Statement<[string, number, string, string, string]>;
  readonly insertEvent: Database.Statement<[string, number, string, string, string, number]>;
  readonly getState: Database.Statement<[string, string], string>;
  readonly upsertState: Database.Statement<[string, string, string, string]>;
  readonly deleteState: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    const placeholders = SESSION_COLUMNS.split(', ')
      .map((c) => `@${c}`)
      .join(', ');
    this.insertSessionIfAbsent = db.prepare(
      `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${placeholders}) ON CONFLICT (id) DO NOTHING`,
    );
    // Heads are derived from the events on every read (heads.ts): the row may lag behind event-only commits.
    this.getSession = db.prepare(`SELECT ${SESSION_SELECT} FROM sessions s WHERE s.id = ?`);
    // IN over json_each: the planner looks each id up by the primary key, and no statement per list length.
    this.getSessions = db.prepare(`SELECT ${SESSION_SELECT} FROM sessions s WHERE s.id IN (SELECT value FROM json_each(?))`);
    this.listFirst = db.prepare(`SELECT ${SESSION_SELECT} FROM sessions s ORDER BY s.created_at DESC, s.id DESC LIMIT ?`);
    // Row-value comparison would read better, but the OR form is what the planner maps onto the index.
    this.listAfter = db.prepare(
      `SELECT ${SESSION_SELECT} FROM sessions s
       WHERE s.created_at < ? OR (s.created_at = ? AND s.id < ?)
       ORDER BY s.created_at DESC, s.id DESC LIMIT ?`,
    );
    this.listIds = db.prepare<[], string>('SELECT id FROM sessions ORDER BY id').pluck();
    this.lastSeq = db.prepare<[string], number>(`SELECT ${HEAD_SEQ} FROM sessions s WHERE s.id = ?`).pluck();
    this.readEvents = db.prepare(
      'SELECT seq, type, data, created_at FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.readEventRows = db
      .prepare<[string, number, number], EventTuple>(
        'SELECT seq, type, data, created_at FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .raw(true);
    this.listMessages = db.prepare('SELECT idx, data, created_at FROM messages WHERE session_id = ? ORDER BY idx');
    this.listMessagesAfter = db.prepare('SELECT idx, data, created_at FROM messages WHERE session_id = ? AND idx > ? ORDER BY idx');
    this.insertMessage = db.prepare(
      'INSERT INTO messages (session_id, idx, role, data, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertEvent = db.prepare(
      'INSERT INTO events (session_id, seq, type, data, created_at, splice) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.getState = db
      .prepare<[string, string], string>('SELECT value FROM session_state WHERE session_id = ? AND key = ?')
      .pluck();
    // The EXISTS guard turns a missing session into "0 rows changed" instead of a foreign-key exception.
    this.upsertState = db.prepare(
      `INSERT INTO session_state (session_id, key, value)
       SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)
       ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
    );
    this.deleteState = db.prepare('DELETE FROM session_state WHERE session_id = ? AND key = ?');
  }
}
