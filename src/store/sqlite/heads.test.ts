import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord, ts } from '../testing/fixtures.js';
import { SqliteStore, openSqliteStore } from './store.js';

// heads.ts: event-only commits leave the session row as it was; every read derives the head from the
// events, and the rows are made exact again when the store opens and closes.

const dirs: string[] = [];
const stores: SqliteStore[] = [];

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tower-heads-'));
  dirs.push(dir);
  return join(dir, 'tower.db');
}

function open(path: string): SqliteStore {
  const s = openSqliteStore(path);
  stores.push(s);
  return s;
}

/** The stored row as it is on disk (a second, read-only connection). */
function rawRow(path: string, id: string): { last_event_seq: number; updated_at: string; message_count: number } {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT last_event_seq, updated_at, message_count FROM sessions WHERE id = ?').get(id) as {
      last_event_seq: number;
      updated_at: string;
      message_count: number;
    };
  } finally {
    db.close();
  }
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite session heads', () => {
  it('leaves the row alone for event-only commits, and every read reports the newest event as the head', async () => {
    const path = tempPath();
    const store = open(path);
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1, { message: { role: 'user', content: 'hi' } })]);
    await store.commit([testEntry('a', 2), testEntry('a', 3)]);
    await store.commit([testEntry('a', 4)]);

    // The row still holds what the message commit wrote: the events past it were not written to it.
    expect(rawRow(path, 'a')).toEqual({ last_event_seq: 1, updated_at: ts(1), message_count: 1 });
    const session = await store.getSession('a');
    expect(session).toMatchObject({ last_event_seq: 4, updated_at: ts(4), message_count: 1 });
    expect((await store.listSessions({ limit: 10 })).items[0]).toMatchObject({ last_event_seq: 4, updated_at: ts(4) });
    expect((await store.snapshot('a'))?.session).toMatchObject({ last_event_seq: 4, updated_at: ts(4) });
    expect(await store.lastSeq('a')).toBe(4);

    // A commit that touches the row continues from the derived head and writes it back.
    const [result] = await store.commit([testEntry('a', 5, { message: { role: 'assistant', content: 'yo' } })]);
    expect(result).toMatchObject({ event: { seq: 5 }, message_index: 1 });
    expect(rawRow(path, 'a')).toEqual({ last_event_seq: 5, updated_at: ts(5), message_count: 2 });
    expect((await store.readEvents('a', 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('writes lagging rows back on close and on open', async () => {
    const path = tempPath();
    const store = open(path);
    await store.createSession(testSessionRecord('a'));
    await store.createSession(testSessionRecord('b'));
    await store.commit([testEntry('a', 1), testEntry('a', 2), testEntry('b', 3)]);
    expect(rawRow(path, 'a').last_event_seq).toBe(0);
    await store.close();
    expect(rawRow(path, 'a')).toMatchObject({ last_event_seq: 2, updated_at: ts(2) });
    expect(rawRow(path, 'b')).toMatchObject({ last_event_seq: 1, updated_at: ts(3) });

    // A crash leaves the row behind: the next open makes it exact before anything reads it.
    const again = open(path);
    await again.commit([testEntry('a', 4)]);
    const crashed = new Database(path);
    crashed.prepare("UPDATE sessions SET last_event_seq = 1, updated_at = ? WHERE id = 'a'").run(ts(1));
    crashed.close();
    expect(await again.lastSeq('a')).toBe(3);
    const reopened = open(path);
    expect(rawRow(path, 'a')).toMatchObject({ last_event_seq: 3, updated_at: ts(4) });
    expect((await reopened.commit([testEntry('a', 5)]))[0]?.event.seq).toBe(4);
  });

  it('starts a session deleted and created again under the same id at seq 1', async () => {
    const store = open(tempPath());
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), testEntry('a', 2)]);
    await store.commit([testEntry('a', 3, { delete_session: true })]);
    expect(await store.getSession('a')).toBeUndefined();
    await store.createSession(testSessionRecord('a', { updated_at: ts(10) }));
    expect(await store.getSession('a')).toMatchObject({ last_event_seq: 0, updated_at: ts(10) });
    expect((await store.commit([testEntry('a', 11)]))[0]?.event.seq).toBe(1);
  });

  it('continues an imported log after its last seq and reports its own updated_at until an event follows', async () => {
    const source = open(tempPath());
    await source.createSession(testSessionRecord('a'));
    await source.commit([testEntry('a', 1), testEntry('a', 2)]);
    const events = await source.readEvents('a', 0, 10);
    const target = open(tempPath());
    await target.importSession(testSessionRecord('a', { updated_at: ts(7) }), [], events);
    expect(await target.getSession('a')).toMatchObject({ last_event_seq: 2, updated_at: ts(7) });
    expect((await target.commit([testEntry('a', 8)]))[0]?.event.seq).toBe(3);
    expect(await target.getSession('a')).toMatchObject({ last_event_seq: 3, updated_at: ts(8) });
  });
});
