import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessagingChange } from '../../protocol/messaging.js';
import { openSqliteStore, type SqliteStore } from './store.js';

const dirs: string[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts?: Parameters<typeof openSqliteStore>[1]): { store: SqliteStore; raw: Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'tower-msg-'));
  dirs.push(dir);
  const path = join(dir, 'tower.db');
  const store = openSqliteStore(path, opts);
  const raw = new Database(path);
  raw.pragma('busy_timeout = 5000');
  closers.push(() => store.close(), () => void raw.close());
  return { store, raw };
}

const insertExternal = (raw: Database.Database, thread: string, content: string) =>
  raw.prepare('INSERT INTO thread_messages (thread_id, from_type, from_id, kind, content) VALUES (?, ?, ?, ?, ?)')
    .run(thread, 'agent', 'ext', 'status', content);

describe('SQLite messaging with external writers', () => {
  it('gives rows inserted without message_seq the next seq, in order, creating the thread if needed', async () => {
    const { store, raw } = setup();
    const m = store.messaging;
    await m.createThread({ id: 'a', title: 'A' });
    await m.postThreadMessage('a', { from_type: 'human', from_id: 'h', to_type: 'broadcast', to_id: '', kind: 'status', content: 'mine' });
    insertExternal(raw, 'a', 'ext1');
    insertExternal(raw, 'a', 'ext2');
    insertExternal(raw, 'fresh', 'hello');
    await m.postThreadMessage('a', { from_type: 'human', from_id: 'h', to_type: 'broadcast', to_id: '', kind: 'status', content: 'mine2' });
    expect((await m.readThreadMessages('a', 0, 10)).map((x) => [x.message_seq, x.content])).toEqual([
      [1, 'mine'], [2, 'ext1'], [3, 'ext2'], [4, 'mine2'],
    ]);
    expect(await m.getThread('fresh')).toMatchObject({ last_seq: 1, status: 'active' });
  });

  it('refuses an external row that reuses a seq, and moves last_seq past a given one', async () => {
    const { store, raw } = setup();
    const m = store.messaging;
    await m.createThread({ id: 'a', title: '' });
    const given = raw.prepare('INSERT INTO thread_messages (thread_id, message_seq, content) VALUES (?, ?, ?)');
    given.run('a', 1, 'x');
    expect(() => given.run('a', 1, 'dup')).toThrow(/UNIQUE/);
    expect(() => given.run('a', 0, 'zero')).toThrow(/positive/);
    expect((await m.postThreadMessage('a', { from_type: 'human', from_id: 'h', to_type: 'broadcast', to_id: '', kind: 'status', content: 'y' })).message.message_seq).toBe(2);
  });

  it('reports rows other connections insert to watchers', async () => {
    const { store, raw } = setup();
    const seen: MessagingChange[] = [];
    let wake: (() => void) | undefined;
    const stop = store.messaging.watch((c) => {
      seen.push(...c);
      wake?.();
    });
    closers.push(stop);
    insertExternal(raw, 't', 'one');
    raw.prepare("INSERT INTO inbox_messages (from_agent, to_inbox, title) VALUES ('ext', 'me', 'hi')").run();
    raw.prepare("UPDATE threads SET status = 'paused' WHERE id = 't'").run();
    while (seen.length < 4) await new Promise<void>((r) => (wake = r));
    // The thread the message created is a change of its own, before the message.
    expect(seen.map((c) => c.kind)).toEqual(['thread_state', 'thread_message', 'inbox_message', 'thread_state']);
  });

  it('an idle watcher is woken by another connection\'s commit, not by its poll', async () => {
    // A fallback poll of an hour: only the file watch can deliver within the test.
    const { store, raw } = setup({ watchIntervalMs: 3_600_000 });
    const got = new Promise<MessagingChange[]>((resolve) => closers.push(store.messaging.watch(resolve)));
    insertExternal(raw, 'w', 'woken');
    expect((await got).map((c) => c.kind)).toEqual(['thread_state', 'thread_message']);
  });
});
