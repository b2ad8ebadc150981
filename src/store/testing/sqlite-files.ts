import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, type SqliteStoreOptions } from '../sqlite/store.js';

/**
 * File-backed SQLite stores for tests, each in its own temporary directory: `open` one, and
 * `cleanup` (from `afterEach`) closes every store opened since and removes the directories.
 */
export function sqliteFiles(prefix: string): {
  open: (opts?: SqliteStoreOptions) => { store: SqliteStore; path: string };
  /** A store opened otherwise, closed by `cleanup` too. */
  track: (store: SqliteStore) => SqliteStore;
  /** A temporary directory of its own, removed by `cleanup`. */
  dir: () => string;
  cleanup: () => Promise<void>;
} {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  return {
    dir,
    track(store) {
      stores.push(store);
      return store;
    },
    open(opts = {}) {
      const path = join(dir(), 'tower.db');
      const store = new SqliteStore(path, opts);
      stores.push(store);
      return { store, path };
    },
    async cleanup() {
      for (const store of stores.splice(0)) await store.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
