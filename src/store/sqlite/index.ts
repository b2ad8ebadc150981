export { SqliteStore, openSqliteStore, type SqliteStoreOptions } from './store.js';
export { MIGRATIONS, latestVersion, runMigrations, type Migration } from './migrations.js';
