import { existsSync, statSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { testEntry, testSessionRecord } from '../testing/fixtures.js';
import { sqliteFiles } from '../testing/sqlite-files.js';
import type { SqliteStore } from './store.js';
import { CommitGate, WalBoundPolicy, type WalLook } from './wal-bound.js';

const files = sqliteFiles('tower-walbound-');
afterEach(files.cleanup);

const MB = 1024 * 1024;
const walSize = (path: string): number => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
const text = 'x'.repeat(1000);

/** Bound settings small enough for a test: restart past 256 frames (~1 MB), cut back to 1 MB. */
const SMALL = { checkpointer: { intervalMs: 5, restartFrames: 256, walLimitBytes: MB } };

/**
 * A writer that never pauses: one-event commits awaited one after another, yielding a macrotask every
 * few (as group commit's flushes do, so the checkpointer's timer runs), until `until()` says stop.
 * Returns the largest WAL seen, looked at every few commits.
 */
async function writeUntil(store: SqliteStore, path: string, until: (commits: number) => boolean): Promise<{ commits: number; largest: number }> {
  let commits = 0;
  let largest = 0;
  while (!until(commits)) {
    await store.commit([testEntry('s1', commits, { data: { content: text } })]);
    commits++;
    if (commits % 4 === 0) {
      largest = Math.max(largest, walSize(path));
      await yieldToLoop();
    }
  }
  return { commits, largest: Math.max(largest, walSize(path)) };
}

describe('WAL bound under a writer that never pauses', () => {
  it('restarts the WAL past the bound: tens of MB written, the file stays small', async () => {
    // A long hold allowed: this test is about the bound, not the hold's time limit (a loaded box's fsyncs
    // can outlast the default 25 ms, and each hold that times out backs off).
    const { store, path } = files.open({ checkpointer: { ...SMALL.checkpointer, maxHoldMs: 5_000 } });
    await store.createSession(testSessionRecord('s1'));
    // Without the bound the file grows by every commit's frames (x3's 139 MB after the append bench's
    // serial round), since a PASSIVE checkpoint never catches up with this writer.
    const { commits, largest } = await writeUntil(store, path, (n) => n >= 20_000);
    expect(commits).toBe(20_000);
    expect(await store.lastSeq('s1')).toBe(20_000);
    // The bound: past 1 MB, the next tick (5 ms) holds commits and the WAL starts over, so the file
    // stays within 1 MB plus one checkpoint cycle's writes (12-15 MB seen on the 2-core box: each
    // commit writes ~18 KB of frames, and a cycle's fsyncs take tens of ms under load). Unbounded, the
    // same writes leave ~365 MB of WAL.
    expect(largest).toBeLessThan(40 * MB);
    expect(store.checkpointer?.stats.restarts).toBeGreaterThan(0);
  }, 120_000);

  it('never holds commits while a long reader keeps old frames, and restarts once the reader is done', async () => {
    const { store, path } = files.open(SMALL);
    await store.createSession(testSessionRecord('s1'));
    await store.commit([testEntry('s1', 0)]);
    // A read transaction held open: its snapshot keeps every later frame in the WAL.
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec('BEGIN');
      expect(reader.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 1 });
      const checkpointer = store.checkpointer;
      if (!checkpointer) throw new Error('no checkpointer');
      // Commits go on, tick after tick, past the bound: each of these ticks found the reader in the way.
      const pinned = await writeUntil(store, path, () => checkpointer.stats.pinned >= 20);
      expect(checkpointer.stats.holds).toBe(0);
      expect(pinned.largest).toBeGreaterThan(2 * MB);
      reader.exec('COMMIT');
      // The reader is done: one commit per checkpoint now, until the WAL has started over (after a hold,
      // or by itself: this slow writer leaves it fully copied between commits) and been cut back.
      const limit = MB + 64 * 1024;
      for (let n = 0; n < 200 && walSize(path) > limit; n++) {
        const ticked = new Promise<void>((resolve) => {
          const off = checkpointer.onCheckpoint(() => {
            off();
            resolve();
          });
        });
        await store.commit([testEntry('s1', n)]);
        await ticked;
      }
      // The restart cut the file back (journal_size_limit, 1 MB here) from the MBs the reader left.
      expect(walSize(path)).toBeLessThanOrEqual(limit);
    } finally {
      reader.close();
    }
  }, 120_000);
});

describe('CommitGate', () => {
  it('lets held callers through in call order once the work is done, and later ones after them', async () => {
    const gate = new CommitGate();
    const order: string[] = [];
    let finish: (v: string) => void = () => {};
    let started: () => void = () => {};
    const working = new Promise<void>((resolve) => (started = resolve));
    const work = (): Promise<string> => {
      started();
      return new Promise<string>((resolve) => (finish = resolve));
    };
    const held = gate.hold(60_000, async () => {}, work);
    expect(gate.closed).toBe(true);
    const a = gate.pass().then(() => order.push('a'));
    const b = gate.pass().then(() => order.push('b'));
    await working;
    expect(order).toEqual([]);
    finish('done');
    // Called once the hold has ended (a and b may or may not have had their turn): it goes after them.
    const c = held.then(() => gate.pass().then(() => order.push('c')));
    expect(await held).toBe('done');
    await Promise.all([a, b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(gate.closed).toBe(false);
  });

  it('releases at maxMs when the work does not answer', async () => {
    const gate = new CommitGate();
    const held = gate.hold(5, async () => {}, () => new Promise<string>(() => {}));
    const passed = gate.pass();
    expect(await held).toBeUndefined();
    await passed;
    expect(gate.closed).toBe(false);
  });

  it('releases at maxMs when draining does not finish, without running the work', async () => {
    const gate = new CommitGate();
    let ran = false;
    const held = gate.hold(5, () => new Promise<void>(() => {}), async () => (ran = true));
    expect(await held).toBeUndefined();
    expect(ran).toBe(false);
    expect(gate.closed).toBe(false);
  });
});

describe('WalBoundPolicy', () => {
  const look = (over: Partial<WalLook>): WalLook => ({
    mode: 'PASSIVE', busy: false, logFrames: 500, checkpointedFrames: 500, walBytes: 500 * 4120, walSeq: 7, ...over,
  });

  it('catches up only past the bound and only when no reader kept frames', () => {
    const p = new WalBoundPolicy(256);
    expect(p.next(look({ logFrames: 100, checkpointedFrames: 100 }), 1)).toBe(false);
    expect(p.next(look({ checkpointedFrames: 300 }), 2)).toBe(false);
    expect(p.next(look({ busy: true }), 3)).toBe(false);
    expect(p.stats.pinned).toBe(2);
    expect(p.next(look({}), 4)).toBe(true);
  });

  it('counts a restart when the WAL sequence moved, and backs off (1, 2, 4 ... chances) when it did not', () => {
    const p = new WalBoundPolicy(256);
    p.caughtUp(look({ walSeq: 7 }), 10);
    // No write since the catch-up: no verdict yet, and no second hold.
    expect(p.next(look({ walSeq: 7 }), 10)).toBe(false);
    expect(p.stats.failed).toBe(0);
    expect(p.next(look({ walSeq: 8, logFrames: 300, checkpointedFrames: 300 }), 11)).toBe(true);
    expect(p.stats.restarts).toBe(1);
    p.caughtUp(look({ walSeq: 8 }), 20);
    // A write since, and the same sequence: no restart (a reader arrived); the next chance is skipped.
    expect(p.next(look({ walSeq: 8 }), 21)).toBe(false);
    expect(p.stats.failed).toBe(1);
    expect(p.next(look({ walSeq: 8 }), 22)).toBe(true);
    p.caughtUp(undefined, 22);
    expect(p.stats.timedOut).toBe(1);
    expect([p.next(look({}), 23), p.next(look({}), 24), p.next(look({}), 25)]).toEqual([false, false, true]);
  });
});
