import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SSE_FORMAT } from '../../transports/http/sse.js';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import { SqliteFrames } from './frames.js';
import { ReaderThread } from './reader-thread.js';

const files = sqliteFiles('tower-reader-');
const opened: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
  files.cleanup();
});

/** A store file with `n` events of session `a`, and frames read through a reader thread (up) and without one. */
async function setup(n: number) {
  const { store, path } = files.open();
  await store.createSession(testSessionRecord('a'));
  for (let from = 1; from <= n; from += 500) await store.commit(Array.from({ length: Math.min(500, n - from + 1) }, (_, i) => testEntry('a', from + i)));
  const reader = new ReaderThread({ path, busyTimeoutMs: 1000 });
  const db = new Database(path, { readonly: true });
  opened.push(() => store.close(), () => void db.close(), () => reader.close());
  expect(await reader.started()).toBe(true);
  return { store, path, reader, off: new SqliteFrames(db, reader), here: new SqliteFrames(db) };
}

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString() : undefined);

describe('SQLite reader thread', () => {
  it('answers undefined until it is up, then the rows of the statements it is sent; a failed one undefined', async () => {
    const { path } = files.open();
    const reader = new ReaderThread({ path, busyTimeoutMs: 1000 });
    opened.push(() => reader.close());
    expect(reader.get('SELECT 1', {})).toBeUndefined();
    expect(await reader.started()).toBe(true);
    expect(await reader.get('SELECT @x + 1, CAST(@y AS BLOB)', { x: 41, y: 'hi' })).toEqual([42, new Uint8Array(Buffer.from('hi'))]);
    expect(await reader.get('SELECT * FROM no_such_table', {})).toBeUndefined();
    await reader.close();
    expect(reader.get('SELECT 1', {})).toBeUndefined();
  });

  it('a thread that cannot open its file never comes up, and reads stay on the main connection', async () => {
    const reader = new ReaderThread({ path: '/nonexistent/dir/tower.db', busyTimeoutMs: 0 });
    opened.push(() => reader.close());
    expect(await reader.started()).toBe(false);
    expect(reader.get('SELECT 1', {})).toBeUndefined();
  });

  it('reads every page as the main connection does, reading each full page ahead', async () => {
    const { reader, off, here } = await setup(1_250);
    for (let after = 0; after < 1_250; ) {
      const page = await off.readOff('a', after, 100, SSE_FORMAT);
      const same = here.read('a', after, 100, SSE_FORMAT);
      expect(page?.seqs).toEqual(same?.seqs);
      expect(text(page?.bytes)).toBe(text(same?.bytes));
      after = page!.seqs.at(-1)!;
    }
    // 13 pages: each full page's successor was read ahead (and taken), plus the first and the last one again.
    expect(reader.reads).toBe(14);
  });

  it('never serves a short page read ahead: rows committed since it was read are in the page', async () => {
    const { store, off } = await setup(130);
    expect((await off.readOff('a', 0, 100, SSE_FORMAT))?.seqs.length).toBe(100);
    // The next page (30 rows) is read ahead now; then the log grows.
    await store.commit(Array.from({ length: 20 }, (_, i) => testEntry('a', 131 + i)));
    const next = await off.readOff('a', 100, 100, SSE_FORMAT);
    expect(next?.seqs).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
  });

  it('leaves pages of unflagged rows to the main connection (checked there)', async () => {
    const { path, off, here } = await setup(300);
    const raw = new Database(path);
    raw.exec('UPDATE events SET splice = NULL');
    raw.close();
    expect(await off.readOff('a', 0, 100, SSE_FORMAT)).toBeUndefined();
    expect(here.read('a', 0, 100, SSE_FORMAT)?.seqs.length).toBe(100);
  });
});
