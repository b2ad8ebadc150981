import type { FSWatcher } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessagingChange } from '../../protocol/messaging.js';
import { openSqliteStore } from './store.js';

/** Every `fs.watch` the store opens, by directory, which of them are still open, and the most open at once. */
const watches = vi.hoisted(() => ({ opened: [] as string[], open: new Set<unknown>(), most: 0, onOpen: undefined as (() => void) | undefined }));

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const watch = (...args: Parameters<typeof actual.watch>): FSWatcher => {
    const w = actual.watch(...args);
    watches.opened.push(String(args[0]));
    watches.open.add(w);
    watches.most = Math.max(watches.most, watches.open.size);
    watches.onOpen?.();
    const close = w.close.bind(w);
    w.close = () => {
      watches.open.delete(w);
      close();
    };
    return w;
  };
  return { ...actual, default: { ...actual, watch }, watch };
});

const dirs: string[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const insertExternal = (raw: Database.Database, content: string) =>
  raw.prepare('INSERT INTO thread_messages (thread_id, from_type, from_id, kind, content) VALUES (?, ?, ?, ?, ?)').run('w', 'agent', 'ext', 'status', content);

describe('the SQLite messaging watch', () => {
  it('closes its file watch for a busy spell, is woken by each external write, opens one again after, and closes it with the last watcher', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tower-msg-watch-'));
    dirs.push(dir);
    // An hour's idle poll: only the file watch can wake an idle watcher. No busy spell outlasts its check.
    const store = openSqliteStore(join(dir, 'tower.db'), { watchIntervalMs: 3_600_000, busyMs: 0 });
    const raw = new Database(join(dir, 'tower.db'));
    raw.pragma('busy_timeout = 5000');
    closers.push(() => store.close(), () => void raw.close());
    const ours = () => watches.opened.filter((d) => d === dir).length;
    const openNow = () => [...watches.open].length;
    const baseOpen = openNow();
    watches.most = baseOpen;
    /** Resolves once a watch is open (at once if one is): the busy spell before has ended. */
    const watching = async () => {
      while (openNow() === baseOpen) await new Promise<void>((r) => (watches.onOpen = r));
    };

    const messages: MessagingChange[] = [];
    /** Watches open while each delivery ran: the spell's first event closed the watch. */
    const openAtDelivery: number[] = [];
    let wake: (() => void) | undefined;
    const stop = store.messaging.watch((changes) => {
      messages.push(...changes.filter((c) => c.kind === 'thread_message'));
      openAtDelivery.push(openNow() - baseOpen);
      wake?.();
    });
    expect(ours()).toBe(1);
    for (let i = 1; i <= 6; i++) {
      // Each write after the spell before it has ended (a new watch open): only that watch can wake it.
      await watching();
      insertExternal(raw, `m${i}`);
      while (messages.length < i) await new Promise<void>((r) => (wake = r));
    }
    expect(messages).toHaveLength(6);
    expect(openAtDelivery.every((n) => n === 0)).toBe(true);
    // One watch per spell, never two at once.
    expect(ours()).toBeGreaterThanOrEqual(6);
    expect(watches.most).toBe(baseOpen + 1);

    await watching();
    stop();
    expect(openNow()).toBe(baseOpen);
    // Watching again opens one watch again, and closing the store closes it.
    const opened = ours();
    const again = new Promise<MessagingChange[]>((resolve) => closers.push(store.messaging.watch(resolve)));
    expect(ours()).toBe(opened + 1);
    insertExternal(raw, 'after');
    expect((await again).some((c) => c.kind === 'thread_message')).toBe(true);
    await store.close();
    expect(openNow()).toBe(baseOpen);
  });
});
