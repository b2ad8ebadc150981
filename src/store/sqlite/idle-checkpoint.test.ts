import { afterEach, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import { lockIdleTruncate } from './testing/idle-lock.js';

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
    const lock = lockIdleTruncate(store, path);
    try {
      await lock.started;
      const order: string[] = [];
      lock.releaseNextTurn(order);
      const first = store.commit([testEntry('s1', 1)]).then((r) => (order.push('first'), r));
      const second = store.commit([testEntry('s1', 2)]).then((r) => (order.push('second'), r));
      const [a, b] = await Promise.all([first, second]);
      // The callback scheduled before the commits ran before either resolved, and they landed in call order.
      expect(order).toEqual(['loop', 'first', 'second']);
      expect(a.map((r) => r.event.seq)).toEqual([2]);
      expect(b.map((r) => r.event.seq)).toEqual([3]);
      expect((await store.readEvents('s1', 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(lock.runs()).toBeGreaterThan(0);
    } finally {
      lock.restore();
    }
  });
});
