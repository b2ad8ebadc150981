import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import { WalCheckpointer, type CheckpointResult } from './checkpointer.js';
import { SqliteStore } from './store.js';

const files = sqliteFiles('tower-ckpt-');
const open = files.open;
afterEach(files.cleanup);

const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

/** One batch of 200 events of ~1 KB: ~50 pages of WAL. */
async function writeBatch(store: SqliteStore, sessionId: string): Promise<void> {
  const text = 'x'.repeat(1000);
  await store.commit(Array.from({ length: 200 }, (_, n) => testEntry(sessionId, n, { data: { content: text } })));
}

/** The next checkpoint of the given mode that the timer runs (never a sleep). */
function nextCheckpoint(store: SqliteStore, mode: CheckpointResult['mode']): Promise<CheckpointResult> {
  const checkpointer = store.checkpointer;
  if (!checkpointer) throw new Error('no checkpointer');
  return new Promise((resolve) => {
    const off = checkpointer.onCheckpoint((r) => {
      if (r.mode !== mode) return;
      off();
      resolve(r);
    });
  });
}

describe('WAL checkpointer thread', () => {
  it('keeps the WAL bounded under sustained writes', async () => {
    const { store, path } = open({ checkpointer: { intervalMs: 5 } });
    await store.createSession(testSessionRecord('s1'));
    await writeBatch(store, 's1');
    await nextCheckpoint(store, 'PASSIVE');
    const oneRound = walSize(path);
    expect(oneRound).toBeGreaterThan(100_000);
    let largest = 0;
    for (let i = 0; i < 40; i++) {
      await writeBatch(store, 's1');
      const r = await nextCheckpoint(store, 'PASSIVE');
      expect(r.busy).toBe(false);
      expect(r.checkpointedFrames).toBe(r.logFrames);
      largest = Math.max(largest, walSize(path));
    }
    // 41 rounds without checkpoints would leave a WAL ~41x one round; restarting after each
    // checkpoint keeps it at about one round (two, if a round straddles a tick).
    expect(largest).toBeLessThan(oneRound * 3);
    expect(await store.lastSeq('s1')).toBe(41 * 200);
  });

  it('truncates the WAL when writes stop, and the data stays readable after reopening', async () => {
    const { store, path } = open({ checkpointer: { intervalMs: 5 } });
    await store.createSession(testSessionRecord('s1'));
    await writeBatch(store, 's1');
    // The batch commits on the writer thread, while the timer runs: a TRUNCATE started before its
    // reply may predate the write. The write is seen (a PASSIVE) on a tick after the reply, and the
    // first idle TRUNCATE after that one follows it.
    await nextCheckpoint(store, 'PASSIVE');
    let r = await nextCheckpoint(store, 'TRUNCATE');
    while (r.busy) r = await nextCheckpoint(store, 'TRUNCATE');
    expect(walSize(path)).toBe(0);
    // The database file alone holds the batch now.
    const reader = new Database(path, { readonly: true });
    try {
      expect(reader.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 200 });
    } finally {
      reader.close();
    }
  });

  it('closes the thread with the store and leaves no WAL behind', async () => {
    const { store, path } = open({ checkpointer: { intervalMs: 60_000 } });
    await store.createSession(testSessionRecord('s1'));
    await writeBatch(store, 's1');
    expect(walSize(path)).toBeGreaterThan(0);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    await expect(store.checkpointer?.checkpoint('PASSIVE')).rejects.toMatchObject({ code: 'internal' });
    const again = new SqliteStore(path, { checkpointer: false });
    files.track(again);
    expect(await again.lastSeq('s1')).toBe(200);
  });

  it('runs on demand and reports the WAL it found', async () => {
    const { store } = open({ checkpointer: { intervalMs: 60_000 } });
    await store.createSession(testSessionRecord('s1'));
    await writeBatch(store, 's1');
    const r = await store.checkpointer?.checkpoint('PASSIVE');
    expect(r).toMatchObject({ mode: 'PASSIVE', busy: false });
    expect(r?.logFrames).toBeGreaterThan(0);
    expect(r?.checkpointedFrames).toBe(r?.logFrames);
  });

  it('is absent for in-memory stores and when turned off', async () => {
    const memory = new SqliteStore(':memory:');
    files.track(memory);
    expect(memory.checkpointer).toBeUndefined();
    const { store, path } = open({ checkpointer: false });
    expect(store.checkpointer).toBeUndefined();
    await store.createSession(testSessionRecord('s1'));
    expect(walSize(path)).toBeGreaterThan(0);
  });

  it('reports a thread that cannot open the database, and then refuses checkpoints', async () => {
    const dir = files.dir();
    let reportFailure: (err: Error) => void = () => {};
    const failure = new Promise<Error>((resolve) => {
      reportFailure = resolve;
    });
    const checkpointer = new WalCheckpointer(join(dir, 'missing.db'), { changes: () => 0, onFailure: (err) => reportFailure(err) });
    try {
      const err = await failure;
      expect(err.message).toMatch(/SQLITE_CANTOPEN|unable to open|does not exist/i);
      await expect(checkpointer.checkpoint('PASSIVE')).rejects.toMatchObject({ code: 'internal' });
    } finally {
      await checkpointer.close();
    }
  });
});
