export type {
  CommitEntry,
  CommitResult,
  SessionPage,
  SessionPatch,
  SessionRecord,
  Snapshot,
  Store,
} from './types.js';
export { SqliteStore, openSqliteStore, type SqliteStoreOptions } from './sqlite/index.js';
