import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { describeStoreConformance, testEntry, testSessionRecord } from '../conformance.js';
import { describeMessagingConformance } from '../conformance-messaging.js';
import type { Store } from '../types.js';
import { MIGRATIONS, latestVersion, runMigrations } from './migrations.js';
import { SqliteStore, openSqliteStore } from './store.js';

const paths = new WeakMap<Store, string>();
const dirs: string[] = [];

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tower-sqlite-'));
  dirs.push(dir);
  // A nested path checks that the store creates missing parent directories.
  return join(dir, 'nested', 'tower.db');
}

function openAt(path: string): SqliteStore {
  const store = openSqliteStore(path);
  paths.set(store, path);
  return store;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describeStoreConformance('sqlite (file)', async () => openAt(tempPath()), {
  buildsFrames: true,
  reopen: async (closed) => {
    const path = paths.get(closed);
    if (!path) throw new Error('store not opened by this factory');
    return openAt(path);
  },
  sameDatabase: async (first) => {
    const path = paths.get(first);
    if (!path) throw new Error('store not opened by this factory');
    return openSqliteStore(path);
  },
});

describeStoreConformance('sqlite (:memory:)', async () => openSqliteStore(':memory:'), { buildsFrames: true });

describe('SqliteStore specifics', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  const open = (path: string): SqliteStore => {
    const s = openAt(path);
    stores.push(s);
    return s;
  };

  it('opens in WAL mode with foreign keys on and the parent directory created', async () => {
    const path = tempPath();
    open(path);
    expect(statSync(path).isFile()).toBe(true);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('applies migrations once and is idempotent on reopen', async () => {
    const path = tempPath();
    const first = open(path);
    await first.createSession(testSessionRecord('a'));
    await first.close();
    open(path);
    const raw = new Database(path, { readonly: true });
    try {
      const rows = raw.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(rows).toEqual(MIGRATIONS.map((m) => m.version));
      expect(latestVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]?.version);
    } finally {
      raw.close();
    }
    const db = new Database(path);
    try {
      expect(runMigrations(db)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('applies only newer migrations, and rolls a failing batch back entirely', () => {
    const db = new Database(':memory:');
    try {
      const v1 = [{ version: 1, sql: 'CREATE TABLE t1 (x INTEGER)' }];
      expect(runMigrations(db, v1)).toEqual([1]);
      const bad = [...v1, { version: 2, sql: 'CREATE TABLE t2 (x)' }, { version: 3, sql: 'NOT SQL' }];
      expect(() => runMigrations(db, bad)).toThrow();
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 't2'").all();
      expect(tables).toEqual([]);
      const good = [...v1, { version: 2, sql: 'CREATE TABLE t2 (x)' }];
      expect(runMigrations(db, good)).toEqual([2]);
      expect(() => runMigrations(db, [good[1]!, good[0]!])).toThrow(/out of order/);
    } finally {
      db.close();
    }
  });

  it('starts a created session at seq 0 with no messages, whatever the record claims', async () => {
    const store = open(tempPath());
    await store.createSession(testSessionRecord('a', { last_event_seq: 7, message_count: 3 }));
    expect(await store.lastSeq('a')).toBe(0);
    const [r] = await store.commit([testEntry('a', 1, { message: { role: 'user', content: 'x' } })]);
    expect(r).toMatchObject({ event: { seq: 1 }, message_index: 0 });
  });

  it('takes import counters from the imported data, and refuses malformed logs', async () => {
    const store = open(tempPath());
    const event = (seq: number) => ({ session_id: 'x', seq, type: 'agent_choice' as const, data: { content: 'x' }, timestamp: 't' });
    await store.importSession(testSessionRecord('a', { last_event_seq: 99, message_count: 5 }), [], [event(1), event(2)]);
    expect(await store.getSession('a')).toMatchObject({ last_event_seq: 2, message_count: 0 });
    await expect(store.importSession(testSessionRecord('b'), [], [event(2), event(2)])).rejects.toMatchObject({
      code: 'invalid_request',
    });
    const msg = { index: 1, message: { role: 'user' as const, content: 'x' }, created_at: 't' };
    await expect(store.importSession(testSessionRecord('c'), [msg], [])).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect(await store.listSessionIds()).toEqual(['a']);
  });

  it('reports driver failures as TowerError internal and refuses calls after close', async () => {
    const store = open(tempPath());
    await store.createSession(testSessionRecord('a'));
    const huge = { limit: 1.5 };
    await expect(store.listSessions(huge)).rejects.toMatchObject({ code: 'invalid_request' });
    await store.close();
    await expect(store.getSession('a')).rejects.toMatchObject({ code: 'internal' });
    await store.close();
  });

  it('commits a large batch in one transaction', async () => {
    const store = open(tempPath());
    for (const id of ['a', 'b', 'c']) await store.createSession(testSessionRecord(id));
    const ids = ['a', 'b', 'c'];
    const entries = Array.from({ length: 3000 }, (_, i) => testEntry(ids[i % 3]!, i));
    const results = await store.commit(entries);
    for (const id of ids) {
      const seqs = results.filter((r) => r.event.session_id === id).map((r) => r.event.seq);
      expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      expect(await store.lastSeq(id)).toBe(1000);
    }
  });
});

describeMessagingConformance('sqlite (file)', async () => openAt(tempPath()));
describeMessagingConformance('sqlite (:memory:)', async () => openSqliteStore(':memory:'));
