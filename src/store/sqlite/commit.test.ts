import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { testSessionRecord } from '../testing/fixtures.js';
import { CommitWriter, loneSession, type WriterEntry } from './commit.js';
import { runMigrations } from './migrations.js';

const ts = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const ev = (session_id: string, n: number, extra: Partial<WriterEntry> = {}): WriterEntry => ({
  session_id,
  type: 'agent_choice',
  data: { content: `tok ${n}` },
  timestamp: ts(n),
  ...extra,
});

/** A writer on its own in-memory database, lean path on or off. */
function open(lean: boolean): { db: Database.Database; writer: CommitWriter } {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  runMigrations(db);
  return { db, writer: new CommitWriter(db, lean) };
}

/** What a batch gave: its placement, or its error's code, message and details. */
function outcome(writer: CommitWriter, entries: WriterEntry[]): unknown {
  try {
    const p = writer.place(entries);
    return { seqs: [...p.seqs], messages: [...p.messages] };
  } catch (err) {
    if (!isTowerError(err)) throw err;
    return { code: err.code, message: err.message, details: err.details };
  }
}

function rows(db: Database.Database): unknown {
  return {
    sessions: db.prepare('SELECT * FROM sessions ORDER BY id').all(),
    events: db.prepare('SELECT * FROM events ORDER BY session_id, seq').all(),
    messages: db.prepare('SELECT * FROM messages ORDER BY session_id, idx').all(),
    state: db.prepare('SELECT * FROM session_state ORDER BY session_id, key').all(),
  };
}

// Batches the lean path takes (one session, event-only) and some it leaves to the general one, with
// every error a small commit can meet: unknown session, expect_state conflict, nothing to replace.
const batches: WriterEntry[][] = [
  [
    ev('s1', 1, { create_session: testSessionRecord('s1') }),
    ev('s2', 2, { create_session: testSessionRecord('s2'), message: { role: 'user' } }),
  ],
  [ev('s1', 3)],
  [ev('s1', 4), ev('s1', 5, { state: { k: 'v', other: 'w' } })],
  [ev('s1', 6, { expect_state: { k: 'v' } })],
  [ev('s1', 7), ev('s1', 8, { expect_state: { k: 'changed' } })],
  [ev('nope', 9)],
  [ev('s2', 10, { replace_last_message: { role: 'assistant' }, encoded: { data: '{"content":"e"}', replace_last_message: '{"r":1}' } })],
  [ev('s1', 11, { replace_last_message: { role: 'assistant' } })],
  [ev('s1', 12), ev('s2', 13)],
  [ev('s1', 14, { state: { k: null } }), ev('s1', 15, { expect_state: { k: null, other: 'w' } })],
  [ev('s2', 16, { message: { role: 'assistant' } })],
  [ev('s2', 17, { session: { title: 'renamed' } })],
  [ev('s1', 18), ev('nope', 19)],
  [ev('s1', 20, { delete_session: true })],
  [ev('s1', 21)],
];

describe('CommitWriter lean path', () => {
  it('is taken only for one session whose entries leave its row alone', () => {
    expect(loneSession([ev('s1', 1), ev('s1', 2, { state: { k: 'v' }, expect_state: { k: null } })])).toBe('s1');
    expect(loneSession([ev('s1', 1, { replace_last_message: { role: 'assistant' } })])).toBe('s1');
    expect(loneSession([])).toBeUndefined();
    expect(loneSession([ev('s1', 1), ev('s2', 2)])).toBeUndefined();
    expect(loneSession([ev('s1', 1, { message: { role: 'user' } })])).toBeUndefined();
    expect(loneSession([ev('s1', 1, { session: { title: 't' } })])).toBeUndefined();
    expect(loneSession([ev('s1', 1, { delete_session: true })])).toBeUndefined();
    expect(loneSession([ev('s1', 1, { create_session: testSessionRecord('s1') })])).toBeUndefined();
  });

  it('gives the same placements, errors and rows as the general path, batch after batch', () => {
    const lean = open(true);
    const general = open(false);
    const codes = new Set<string>();
    for (const batch of batches) {
      const got = outcome(lean.writer, batch);
      expect(got).toEqual(outcome(general.writer, batch));
      expect(rows(lean.db)).toEqual(rows(general.db));
      const code = (got as { code?: string }).code;
      if (code) codes.add(code);
    }
    // The sequence did meet each error, and wrote rows past them.
    expect([...codes].sort()).toEqual(['conflict', 'invalid_request', 'unknown_session']);
    expect(rows(lean.db)).toMatchObject({ events: expect.arrayContaining([expect.objectContaining({ session_id: 's2', seq: 4 })]) });
    lean.db.close();
    general.db.close();
  });
});
