import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import type { CheckpointMode, CheckpointResult } from './checkpointer.js';

const files = sqliteFiles('tower-idlecp-');
afterEach(files.cleanup);

describe('the idle TRUNCATE checkpoint and commits on the main connection', () => {
  // 25 ms: the commits wait in the hold; 0: the hold ends at once and they go to the writer thread.
  it.each([25, 0])('keeps an inline commit issued while the idle checkpoint has the write lock off the loop (hold %i ms)', async (maxHoldMs) => {
    // A short busy_timeout: a commit that waits in the busy handler on this thread (the defect) cannot be
    // rescued by the loop (the lock's release is a loop callback), so it fails with SQLITE_BUSY.
    const { store, path } = files.open({ busyTimeoutMs: 300, checkpointer: { intervalMs: 5, maxHoldMs }, writerThread: { prestart: 'open' } });
    await store.createSession(testSessionRecord('s1'));
    await store.commit([testEntry('s1', 0)]);
    const cp = store.checkpointer;
    if (!cp) throw new Error('no checkpointer');
    // The idle TRUNCATE made slow and observable: it holds the write lock (as TRUNCATE does) on a
    // connection of its own until a loop callback releases it, then runs the real checkpoint.
    const real = cp.checkpoint.bind(cp);
    const lock = new Database(path);
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let idleRuns = 0;
    cp.checkpoint = async (mode: CheckpointMode): Promise<CheckpointResult> => {
      if (mode !== 'TRUNCATE' || idleRuns++ > 0) return real(mode);
      lock.prepare('BEGIN IMMEDIATE').run();
      started();
      await released;
      lock.prepare('COMMIT').run();
      return real(mode);
    };
    try {
      await running;
      const order: string[] = [];
      setImmediate(() => {
        order.push('loop');
        release();
      });
      const first = store.commit([testEntry('s1', 1)]).then((r) => (order.push('first'), r));
      const second = store.commit([testEntry('s1', 2)]).then((r) => (order.push('second'), r));
      const [a, b] = await Promise.all([first, second]);
      // The callback scheduled before the commits ran before either resolved, and they landed in call order.
      expect(order).toEqual(['loop', 'first', 'second']);
      expect(a.map((r) => r.event.seq)).toEqual([2]);
      expect(b.map((r) => r.event.seq)).toEqual([3]);
      expect((await store.readEvents('s1', 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(idleRuns).toBeGreaterThan(0);
    } finally {
      cp.checkpoint = real;
      lock.close();
    }
  });
});
