import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import { WalCheckpointer, type CheckpointResult } from './checkpointer.js';
import { SqliteStore } from './store.js';

const files = sqliteFiles('tower-ckpt-');
const open = files.open;
afterEach(files.cleanup);

const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

/** One row read from the database file by a read-only connection of its own. */
function readAlone(path: string, sql: string): unknown {
  const reader = new Database(path, { readonly: true });
  try {
    return reader.prepare(sql).get();
  } finally {
    reader.close();
  }
}

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
    expect(readAlone(path, 'SELECT COUNT(*) AS n FROM events')).toEqual({ n: 200 });
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

  it('makes the final checkpoint of close() on its thread: the main connection closes on an empty WAL', async () => {
    const { store, path } = open({ checkpointer: { intervalMs: 60_000 } });
    await store.createSession(testSessionRecord('s1'));
    await writeBatch(store, 's1');
    await store.checkpointer?.checkpoint('PASSIVE');
    // The main connection's close, watched: it is the last connection, so SQLite checkpoints whatever
    // the WAL still holds inside it, on the event loop. The thread must have left it nothing.
    const db = (store as unknown as { db: Database.Database }).db;
    const closeMain = db.close.bind(db);
    let walAtMainClose: number | undefined;
    db.close = () => {
      walAtMainClose = walSize(path);
      return closeMain();
    };
    expect(walSize(path)).toBeGreaterThan(0);
    await store.close();
    expect(walAtMainClose).toBe(0);
    // The database file alone holds everything, the settled session row included.
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(readAlone(path, 'SELECT COUNT(*) AS n FROM events')).toEqual({ n: 200 });
    expect(readAlone(path, 'SELECT last_event_seq AS n FROM sessions')).toEqual({ n: 200 });
  });

  it('closes the store on its own connection when the checkpointer has failed', async () => {
    const { store, path } = open({ checkpointer: { intervalMs: 60_000 } });
    await store.createSession(testSessionRecord('s1'));
    await writeBatch(store, 's1');
    // A crash of the thread, as the driver failing would leave it.
    await (store.checkpointer as unknown as { worker: { terminate: () => Promise<number> } }).worker.terminate();
    expect(store.checkpointer?.running).toBe(false);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
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

  it('never keeps a plain node process alive: a store that is never closed lets the process exit', async () => {
    const dir = files.dir();
    const here = (name: string): string => JSON.stringify(pathToFileURL(resolve(import.meta.dirname, name)).href);
    // The child commits (writer thread) and runs an on-demand checkpoint (whose answer it must get), then
    // returns without closing the store: its event loop must empty and the process end by itself. A file,
    // not `-e`: `--input-type=module` would reach the eval'd CommonJS worker sources too.
    const script = join(dir, 'leave-open.mts');
    writeFileSync(script, `
      import { SqliteStore } from ${here('store.ts')};
      import { testEntry, testSessionRecord } from ${here('../testing/fixtures.ts')};
      const store = new SqliteStore(process.argv[2], { checkpointer: { intervalMs: 5 } });
      await store.createSession(testSessionRecord('s1'));
      await store.commit([testEntry('s1', 0)]);
      await store.checkpointer.checkpoint('PASSIVE');
      process.stdout.write('left open');
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script, join(dir, 'tower.db')], { cwd: resolve(import.meta.dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    // A child that hangs (the defect) is ended when the test times out, not left behind.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exitCode = await new Promise<number | null>((done) => child.once('close', (c) => done(c)));
    expect(out).toBe('left open');
    expect(exitCode).toBe(0);
  }, 60_000);

  it('runs in a process started with --input-type=module (its workers read eval\'d source as ESM)', async () => {
    const dir = files.dir();
    const code = `
      import { SqliteStore } from './src/store/sqlite/store.ts';
      const store = new SqliteStore(process.argv[1]);
      const outcome = await store.checkpointer.checkpoint('PASSIVE').then(() => 'checkpointed', (err) => err.message);
      await store.close();
      process.stdout.write(outcome);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, join(dir, 'tower.db')], {
      cwd: resolve(import.meta.dirname, '../../..'), stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exitCode = await new Promise<number | null>((done) => child.once('close', (c) => done(c)));
    expect(out).toBe('checkpointed');
    expect(exitCode).toBe(0);
  }, 60_000);
});
