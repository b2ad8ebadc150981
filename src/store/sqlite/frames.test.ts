import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toWire, type StoredEvent } from '../../protocol/events.js';
import { checkFrames } from '../testing/conformance-frames.js';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import { SqliteStore } from './store.js';

const files = sqliteFiles('tower-frames-');
afterEach(files.cleanup);

const flags = (path: string, session: string): (number | null)[] => {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare<[string], number | null>('SELECT splice FROM events WHERE session_id = ? ORDER BY seq').pluck().all(session);
  } finally {
    raw.close();
  }
};

const exec = (path: string, sql: string): void => {
  const raw = new Database(path);
  try {
    raw.exec(sql);
  } finally {
    raw.close();
  }
};

/** Every page of a session read the way a subscriber does (each after the last one's end), all checked. */
async function checkPages(store: SqliteStore, session: string, limit: number, mustBuild: boolean): Promise<void> {
  for (let after = 0, last = -1; after !== last; ) {
    last = after;
    after = await checkFrames(store, session, after, limit, mustBuild);
  }
}

describe('SQLite frames and the splice flag (migration 37)', () => {
  it('flags each row when it is written, by commit and by import', async () => {
    const { store, path } = files.open();
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), { ...testEntry('a', 2), data: { content: 'x', type: 'clash' } }, { ...testEntry('a', 3), data: { part: { type: 'nested' } } }]);
    expect(flags(path, 'a')).toEqual([1, 0, 1]);
    const events: StoredEvent[] = [
      { session_id: 'i', seq: 2, type: 'agent_choice', data: { content: 'c' }, timestamp: '2025-01-02T03:04:05.000Z' },
      { session_id: 'i', seq: 5, type: 'agent_choice', data: { content: 'c' }, timestamp: 'odd "ts"' },
    ];
    await store.importSession(testSessionRecord('i'), [], events);
    expect(flags(path, 'i')).toEqual([1, 0]);
  });

  it('frames rows written before the flag (NULL), alone and mixed with flagged ones, page after page', async () => {
    const { store, path } = files.open();
    await store.createSession(testSessionRecord('a'));
    const data = [{ content: 'c' }, { content: 'x', seq: 'clash' }, {}, { content: '\u001e RS ü' }, { part: [{ type: 't' }] }];
    await store.commit(Array.from({ length: 20 }, (_, i) => ({ ...testEntry('a', i + 1), data: data[i % data.length] as Record<string, unknown> })));
    // Rows 1-12 as a Tower before migration 37 left them.
    exec(path, "UPDATE events SET splice = NULL WHERE session_id = 'a' AND seq <= 12");
    expect(flags(path, 'a').filter((f) => f === null)).toHaveLength(12);
    for (const limit of [1, 3, 5, 7, 100]) await checkPages(store, 'a', limit, false);
    // Windows that start inside the old rows and end inside the new ones, read out of order.
    for (const [after, limit] of [[11, 3], [0, 13], [12, 1], [2, 10], [13, 100], [11, 2]] as const) await checkFrames(store, 'a', after, limit, false);
  });

  it('forgets a row’s flag when its text is rewritten, so a rewrite cannot leave a stale one', async () => {
    const { store, path } = files.open();
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), testEntry('a', 2), testEntry('a', 3)]);
    exec(path, `UPDATE events SET data = '{"content":"now","timestamp":"a clash"}' WHERE session_id = 'a' AND seq = 2`);
    expect(flags(path, 'a')).toEqual([1, null, 1]);
    await checkFrames(store, 'a', 0, 100, false);
    const [, second] = await store.readEvents('a', 0, 100);
    expect(Buffer.from((await store.readEventFrames('a', 1, 1, [{ text: '' }, 'wire'])).bytes).toString()).toBe(JSON.stringify(toWire(second as StoredEvent)));
  });

  it('takes a page whose rows are all flagged as SQL built it, without checking its payloads again', async () => {
    const { store, path } = files.open();
    await store.createSession(testSessionRecord('a'));
    await store.commit([testEntry('a', 1), { ...testEntry('a', 2), data: { content: 'x', type: 'clash' } }]);
    // A flag that lies: only the fast path trusts it (the checked one would frame the row the object way).
    exec(path, "UPDATE events SET splice = 1 WHERE session_id = 'a'");
    const framed = await store.readEventFrames('a', 0, 100, [{ text: '' }, 'wire', { text: '\n' }]);
    expect(Buffer.from(framed.bytes).toString().split('\n')[1]).toBe(
      '{"content":"x","type":"clash","type":"agent_choice","seq":2,"session_id":"a","timestamp":"' + testEntry('a', 2).timestamp + '"}',
    );
  });

  it('migrates a database from before the flag: old rows NULL and framed checked, new rows flagged', async () => {
    const { store: first, path } = files.open();
    await first.createSession(testSessionRecord('a'));
    await first.close();
    // The file as a Tower before migration 37 left it, with two old rows.
    exec(
      path,
      `DROP TRIGGER events_splice_stale; ALTER TABLE events DROP COLUMN splice; DELETE FROM schema_migrations WHERE version >= 37;
       INSERT INTO events (session_id, seq, type, data, created_at) VALUES
         ('a', 1, 'agent_choice', '{"content":"old"}', '2025-01-02T03:04:05.000Z'),
         ('a', 2, 'agent_choice', '{"content":"old","type":"clash"}', '2025-01-02T03:04:05.001Z');`,
    );
    const store = files.track(new SqliteStore(path));
    await store.commit([testEntry('a', 3), testEntry('a', 4)]);
    expect(flags(path, 'a')).toEqual([null, null, 1, 1]);
    for (const limit of [1, 2, 3, 100]) await checkPages(store, 'a', limit, false);
  });
});
