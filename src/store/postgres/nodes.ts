import type { PostgresStore } from './store.js';

/** A node heartbeating within this window counts as present. */
export const NODE_LIVE_MS = 15_000;

/** Records (or refreshes) this node in the `nodes` table, with the bus it fans out on. */
export async function heartbeatNode(store: PostgresStore, id: string, bus: string): Promise<void> {
  await store.pool.query(
    `INSERT INTO nodes (id, bus) VALUES ($1, $2)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), bus = excluded.bus`,
    [id, bus],
  );
}

/** Other nodes seen within `withinMs`, with their bus kind ("memory", "redis" or "redis:<prefix>"). */
export async function liveNodes(store: PostgresStore, exceptId: string, withinMs = NODE_LIVE_MS): Promise<{ id: string; bus: string }[]> {
  const { rows } = await store.pool.query<{ id: string; bus: string }>(
    `SELECT id, bus FROM nodes WHERE id <> $1 AND heartbeat_at > now() - make_interval(secs => $2) ORDER BY id`,
    [exceptId, withinMs / 1000],
  );
  return rows;
}

export async function removeNode(store: PostgresStore, id: string): Promise<void> {
  await store.pool.query('DELETE FROM nodes WHERE id = $1', [id]);
}
