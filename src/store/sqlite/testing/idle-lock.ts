import Database from 'better-sqlite3';
import type { CheckpointMode, CheckpointResult } from '../checkpointer.js';
import type { SqliteStore } from '../store.js';

/**
 * The store's first idle TRUNCATE made slow and observable: it takes the write lock (as TRUNCATE does) on
 * a connection of its own and keeps it until `release()`, then runs the real checkpoint. `started`
 * resolves once the lock is held. With a short `busy_timeout`, a write on the store's connection that
 * meets the lock in SQLite's busy handler fails (`database is locked`): the release is a loop callback,
 * and the busy handler sleeps on the loop.
 */
export interface IdleLock {
  started: Promise<void>;
  release(): void;
  /** Releases it from a `setImmediate` scheduled now, which first pushes 'loop' onto `order`. */
  releaseNextTurn(order: string[]): void;
  /** Idle TRUNCATEs seen so far. */
  runs(): number;
  /** Puts the real checkpoint back and closes the lock's connection. */
  restore(): void;
}

export function lockIdleTruncate(store: SqliteStore, path: string): IdleLock {
  const cp = store.checkpointer;
  if (!cp) throw new Error('no checkpointer');
  const real = cp.checkpoint.bind(cp);
  const lock = new Database(path);
  let started: () => void = () => {};
  const running = new Promise<void>((resolve) => (started = resolve));
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let runs = 0;
  cp.checkpoint = async (mode: CheckpointMode): Promise<CheckpointResult> => {
    if (mode !== 'TRUNCATE' || runs++ > 0) return real(mode);
    lock.prepare('BEGIN IMMEDIATE').run();
    started();
    await released;
    lock.prepare('COMMIT').run();
    return real(mode);
  };
  return {
    started: running,
    release,
    releaseNextTurn: (order) => {
      setImmediate(() => {
        order.push('loop');
        release();
      });
    },
    runs: () => runs,
    restore: () => {
      cp.checkpoint = real;
      lock.close();
    },
  };
}
