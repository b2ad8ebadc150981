import type Database from 'better-sqlite3';
import { TowerError } from '../../protocol/errors.js';
import { spliceFlag } from '../../protocol/wire-splice.js';
import { planCommit, unknownSession, type CommitPlan } from '../commit-plan.js';
import type { CommitEntry, EncodedEntry } from '../types.js';
import { HEAD_SEQ } from './heads.js';
import { SESSION_COLUMNS, sessionToRow, type SessionRow } from './session-row.js';
import { BatchMarks, type BatchMark } from './writer-marks.js';

/** Seq and message count before the batch, advanced as its entries are written. */
interface Head {
  seq: number;
  messageCount: number;
}

/**
 * What the writer reads of an entry: a `CommitEntry` is one, and so is the slimmer copy the writer thread
 * receives (the JSON already encoded, messages reduced to their role).
 */
export type WriterEntry = Pick<
  CommitEntry,
  'session_id' | 'create_session' | 'type' | 'timestamp' | 'session' | 'delete_session' | 'state' | 'expect_state'
> & {
  data?: unknown;
  message?: { role: string };
  replace_last_message?: { role: string };
  encoded?: EncodedEntry;
};

/**
 * Where a batch's entries landed: `seqs[i]`, and `messages[i]` the index of entry i's message or -1.
 * Typed arrays, so the writer thread's reply is two transferred buffers rather than cloned arrays.
 */
export interface Placement {
  seqs: Float64Array;
  messages: Int32Array;
}

type HeadRow = [last_event_seq: number, message_count: number];
type UpdateArgs = [
  events: number,
  messages: number,
  updatedAt: string,
  title: string | null,
  model: string | null,
  starred: number | null,
  permissions: string | null,
  settings: string | null,
  runner: string | null,
  addInput: number,
  addOutput: number,
  addCost: number,
  id: string,
];

/**
 * The group-commit path: prepared once, one transaction per call. Each session of a batch costs one
 * UPDATE ... RETURNING (which both reserves its seqs and message indexes and applies its patches), or,
 * when its entries only append events, one SELECT of its head (heads.ts: the row is not rewritten for
 * those), plus one INSERT per event and message. Heads are read inside the transaction, never cached,
 * so nothing can go stale across commits, deletes or imports.
 */
export class CommitWriter {
  private readonly reserve: Database.Statement<UpdateArgs, HeadRow>;
  private readonly readHead: Database.Statement<[string], HeadRow>;
  private readonly insertEvent: Database.Statement<[string, number, string, string, string, number]>;
  private readonly insertMessage: Database.Statement<[string, number, string, string, string]>;
  private readonly replaceMessage: Database.Statement<[string, string, string, number]>;
  private readonly deleteSession: Database.Statement<[string]>;
  private readonly upsertState: Database.Statement<[string, string, string]>;
  private readonly deleteState: Database.Statement<[string, string]>;
  private readonly insertSession: Database.Statement<[SessionRow]>;
  private readonly readState: Database.Statement<[string, string], string>;
  private readonly transaction: Database.Transaction<(entries: readonly WriterEntry[], mark?: BatchMark) => Placement>;
  /** The writer thread's batch marks (writer-marks.ts), on this connection. */
  readonly marks: BatchMarks;

  /**
   * `lean: false` sends every batch down the general path (the tests compare the two on the same
   * batches); the lean one is otherwise taken whenever `loneSession` allows it.
   */
  constructor(
    db: Database.Database,
    private readonly lean = true,
  ) {
    this.reserve = db
      .prepare<UpdateArgs, HeadRow>(
        `UPDATE sessions AS s SET
           last_event_seq = ${HEAD_SEQ} + ?, message_count = message_count + ?, updated_at = ?,
           title = COALESCE(?, title), model = COALESCE(?, model), starred = COALESCE(?, starred),
           permissions = COALESCE(?, permissions), settings = COALESCE(?, settings),
           runner = NULLIF(COALESCE(?, runner), 'null'),
           input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, cost = cost + ?
         WHERE id = ?
         RETURNING last_event_seq, message_count`,
      )
      .raw(true);
    this.readHead = db
      .prepare<[string], HeadRow>(`SELECT ${HEAD_SEQ}, s.message_count FROM sessions s WHERE s.id = ?`)
      .raw(true);
    this.insertEvent = db.prepare(
      'INSERT INTO events (session_id, seq, type, data, created_at, splice) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertMessage = db.prepare(
      'INSERT INTO messages (session_id, idx, role, data, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.replaceMessage = db.prepare('UPDATE messages SET role = ?, data = ? WHERE session_id = ? AND idx = ?');
    this.deleteSession = db.prepare('DELETE FROM sessions WHERE id = ?');
    this.upsertState = db.prepare(
      `INSERT INTO session_state (session_id, key, value) VALUES (?, ?, ?)
       ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
    );
    this.deleteState = db.prepare('DELETE FROM session_state WHERE session_id = ? AND key = ?');
    const placeholders = SESSION_COLUMNS.split(', ').map((c) => `@${c}`).join(', ');
    this.insertSession = db.prepare(
      `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${placeholders}) ON CONFLICT (id) DO NOTHING`,
    );
    this.readState = db
      .prepare<[string, string], string>('SELECT value FROM session_state WHERE session_id = ? AND key = ?')
      .pluck();
    this.marks = new BatchMarks(db);
    this.transaction = db.transaction((entries, mark) => {
      const placed = this.apply(entries);
      if (mark) this.marks.record(mark, placed);
      return placed;
    });
  }

  /**
   * One batch in one transaction: where its entries landed (`resultsOf` builds the events from that, on
   * the main thread). Throws `unknown_session` (or `invalid_request`) and rolls back everything if any
   * entry is bad. With `mark`, the placement is also recorded in the same transaction (the writer
   * thread's answer, should its reply be lost).
   */
  place(entries: readonly WriterEntry[], mark?: BatchMark): Placement {
    if (entries.length === 0) return { seqs: new Float64Array(0), messages: new Int32Array(0) };
    return this.transaction.immediate(entries, mark);
  }

  private apply(entries: readonly WriterEntry[]): Placement {
    const seqs = new Float64Array(entries.length);
    const messages = new Int32Array(entries.length);
    const lone = this.lean ? loneSession(entries) : undefined;
    if (lone !== undefined) {
      // The common small case (a serial append, a turn's deltas): one session, nothing that changes its
      // row, so no plan and no heads map: one head read, then the same per-entry writes as below.
      const row = this.readHead.get(lone);
      if (!row) throw unknownSession(lone);
      const head: Head = { seq: row[0], messageCount: row[1] };
      for (let i = 0; i < entries.length; i++) this.write(entries[i] as WriterEntry, head, i, seqs, messages);
      return { seqs, messages };
    }
    this.createSessions(entries);
    const heads = this.reserveAll(planCommit(entries));
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as WriterEntry;
      this.write(entry, heads.get(entry.session_id) as Head, i, seqs, messages);
    }
    return { seqs, messages };
  }

  /** Entry `i`'s rows, from its session's `head` (advanced past them). */
  private write(entry: WriterEntry, head: Head, i: number, seqs: Float64Array, messages: Int32Array): void {
    const id = entry.session_id;
    if (entry.expect_state) this.checkState(id, entry.expect_state);
    const seq = ++head.seq;
    const encoded = entry.encoded;
    const data = encoded?.data ?? JSON.stringify(entry.data);
    this.insertEvent.run(id, seq, entry.type, data, entry.timestamp, spliceFlag(data, entry.type, entry.timestamp));
    seqs[i] = seq;
    messages[i] = -1;
    // Replace before append, so one entry can both complete the last message and start the next.
    if (entry.replace_last_message) {
      if (head.messageCount === 0) {
        throw new TowerError('invalid_request', `session ${id} has no message to replace`, { session_id: id });
      }
      const m = entry.replace_last_message;
      this.replaceMessage.run(m.role, encoded?.replace_last_message ?? JSON.stringify(m), id, head.messageCount - 1);
    }
    if (entry.message) {
      const index = head.messageCount++;
      const json = encoded?.message ?? JSON.stringify(entry.message);
      this.insertMessage.run(id, index, entry.message.role, json, entry.timestamp);
      messages[i] = index;
    }
    if (entry.state) {
      for (const [key, value] of Object.entries(entry.state)) {
        if (value === null) this.deleteState.run(id, key);
        else this.upsertState.run(id, key, value);
      }
    }
    if (entry.delete_session) this.deleteSession.run(id);
  }

  /** Rows of sessions created by this batch, inserted before any seq is reserved. */
  private createSessions(entries: readonly WriterEntry[]): void {
    for (const entry of entries) {
      const record = entry.create_session;
      if (!record) continue;
      if (record.id !== entry.session_id) {
        throw new TowerError('invalid_request', `create_session id ${record.id} differs from the entry's session`, {
          session_id: entry.session_id,
        });
      }
      const row = sessionToRow({ ...record, last_event_seq: 0, message_count: 0 });
      if (this.insertSession.run(row).changes === 0) {
        throw new TowerError('conflict', `session ${record.id} already exists`, { session_id: record.id });
      }
    }
  }

  private checkState(id: string, expected: Record<string, string | null>): void {
    for (const [key, value] of Object.entries(expected)) {
      const current = this.readState.get(id, key) ?? null;
      if (current !== value) {
        throw new TowerError('conflict', `state ${key} of session ${id} changed concurrently`, { session_id: id, key });
      }
    }
  }

  /** Applies each session's plan to its row and returns where its seqs and indexes start. */
  private reserveAll(plans: Map<string, CommitPlan>): Map<string, Head> {
    const heads = new Map<string, Head>();
    for (const [id, p] of plans) {
      if (!touchesRow(p)) {
        const head = this.readHead.get(id);
        if (!head) throw unknownSession(id);
        heads.set(id, { seq: head[0], messageCount: head[1] });
        continue;
      }
      const row = this.reserve.get(
        p.events,
        p.messages,
        p.updatedAt,
        p.title,
        p.model,
        p.starred === null ? null : p.starred ? 1 : 0,
        p.permissions,
        p.settings,
        p.runner,
        p.addInput,
        p.addOutput,
        p.addCost,
        id,
      );
      if (!row) throw unknownSession(id);
      heads.set(id, { seq: row[0] - p.events, messageCount: row[1] - p.messages });
    }
    return heads;
  }
}


/** Whether a session's part of a batch changes its row; one that only appends events leaves it as is. */
function touchesRow(p: CommitPlan): boolean {
  return (
    p.messages > 0 || p.title !== null || p.model !== null || p.starred !== null || p.permissions !== null ||
    p.settings !== null || p.runner !== null || p.addInput !== 0 || p.addOutput !== 0 || p.addCost !== 0
  );
}

/**
 * The one session of a batch that the lean path can write, or undefined for the general one: every
 * entry of that session, none creating it, patching its row, adding a message or deleting it. Such a
 * batch's plan would only count its events and leave the row as is (`touchesRow` false), so the
 * general path would read the one head and write exactly the same rows, with the same errors.
 */
export function loneSession(entries: readonly WriterEntry[]): string | undefined {
  const first = entries[0];
  if (!first) return undefined;
  const id = first.session_id;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as WriterEntry;
    if (e.session_id !== id || e.create_session || e.session || e.message || e.delete_session) return undefined;
  }
  return id;
}
