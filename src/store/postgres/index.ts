export { PostgresStore, openPostgresStore, type PostgresStoreOptions } from './store.js';
export { PG_MIGRATIONS, runPgMigrations, type PgMigration } from './migrations.js';
export { heartbeatNode, liveNodes, removeNode, NODE_LIVE_MS } from './nodes.js';
export { PgSessionLease, assertFence, assertFences, type PgSessionLeaseOptions } from './lease.js';
export type { FenceSource } from './lease.js';
export { leaseNode, leasedSessions, unownedSessions } from './ownership.js';
