import type pg from 'pg';

/**
 * Reads of the lease table for the cluster (issue 15): who owns a session now, which sessions lost
 * their owner. Always against the database clock, like the leases themselves.
 */

/** The node holding a live lease on the session, or undefined (nobody runs it, or its lease expired). */
export async function leaseNode(pool: pg.Pool, sessionId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ node: string }>(
    'SELECT node FROM session_leases WHERE session_id = $1 AND expires_at > now()',
    [sessionId],
  );
  return rows[0]?.node;
}

/** Of `sessionIds`, those with a live lease (what a node reports as running elsewhere). */
export async function leasedSessions(pool: pg.Pool, sessionIds: readonly string[]): Promise<Set<string>> {
  if (sessionIds.length === 0) return new Set();
  const { rows } = await pool.query<{ session_id: string }>(
    'SELECT session_id FROM session_leases WHERE session_id = ANY($1::text[]) AND expires_at > now()',
    [sessionIds],
  );
  return new Set(rows.map((r) => r.session_id));
}

/**
 * Sessions that have one of the state `keys` (an open turn's `active_turn`, queued work) and no live
 * lease: their owner died or gave up without closing them. Byte order of id, each once, with the keys
 * it has.
 */
export async function unownedSessions(pool: pg.Pool, keys: readonly string[]): Promise<Array<{ session_id: string; keys: string[] }>> {
  if (keys.length === 0) return [];
  const { rows } = await pool.query<{ session_id: string; keys: string[] }>(
    `SELECT s.session_id COLLATE "C" AS session_id, array_agg(s.key ORDER BY s.key) AS keys
     FROM session_state s
     LEFT JOIN session_leases l ON l.session_id = s.session_id AND l.expires_at > now()
     WHERE s.key = ANY($1::text[]) AND l.session_id IS NULL
     GROUP BY 1 ORDER BY 1`,
    [keys],
  );
  return rows;
}
