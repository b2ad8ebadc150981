import type pg from 'pg';
import { TowerError } from '../../protocol/errors.js';

export interface PgSessionLeaseOptions {
  /** A lease not renewed for this long is free for anyone. Default 15 000 ms. */
  ttlMs?: number;
  /** How often held leases are renewed. Default 5000 ms (a third of the ttl: two renewals may fail). */
  renewMs?: number;
  /** Called with sessions whose lease this instance lost (expired and taken, or deleted) at a renewal. */
  onLost?: (sessionIds: string[]) => void;
  /** The node this instance runs on, recorded with each lease so other nodes can forward commands to it. */
  node?: string;
}

/** Where a store finds the fencing token of each session this node writes as the lease holder. */
export interface FenceSource {
  /** The token held by this node's writer of the session; undefined means it writes unfenced. */
  tokenOf(sessionId: string): number | undefined;
  /** A commit found the token stale: the lease is gone, whatever the renewal timer thinks. */
  fenceFailed?(sessionId: string): void;
}

/**
 * The cluster's `SessionClaim` (core/sessions/claim.ts, matched structurally: store/ imports protocol/
 * only): a row per claimed session with its owner, an expiry and a fencing token. Expiry and "now" are
 * the database's clock, so nodes' clocks do not matter. A grant to a new owner (or to the same owner
 * after its lease expired) takes a fresh token from a sequence, so tokens only grow; `assertFence`
 * checks one inside a writer's transaction, which is what stops a node that lost its lease from
 * writing. Held leases are renewed on a timer until `close()`.
 */
export class PgSessionLease {
  private readonly ttlMs: number;
  private readonly held = new Map<string, { owner: string; token: number }>();
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<string[]> | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PgSessionLeaseOptions = {},
  ) {
    this.ttlMs = Math.max(1, Math.floor(opts.ttlMs ?? 15_000));
    const renewMs = Math.max(1, Math.floor(opts.renewMs ?? 5000));
    this.timer = setInterval(() => {
      // A failed renewal (database briefly away) is retried on the next tick; the ttl allows for it.
      this.renew().catch(() => undefined);
    }, renewMs);
    this.timer.unref();
  }

  /** Takes the session for `owner`; false while another owner's lease is unexpired. */
  async claim(sessionId: string, owner: string): Promise<boolean> {
    return (await this.claimToken(sessionId, owner)) !== undefined;
  }

  /** As `claim`, returning the fencing token of the lease (undefined when refused). */
  async claimToken(sessionId: string, owner: string): Promise<number | undefined> {
    this.assertOpen();
    // One statement: racing claimants serialize on the row (ON CONFLICT re-checks the WHERE against the
    // winner's committed row), so exactly one of them gets it.
    const { rows } = await this.pool.query<{ token: string }>(
      `INSERT INTO session_leases AS l (session_id, owner, token, expires_at, node)
       VALUES ($1, $2, nextval('session_lease_tokens'), now() + make_interval(secs => $3), $4)
       ON CONFLICT (session_id) DO UPDATE SET
         owner = excluded.owner, node = excluded.node,
         token = CASE WHEN l.owner = excluded.owner AND l.expires_at > now() THEN l.token ELSE excluded.token END,
         expires_at = excluded.expires_at
       WHERE l.owner = excluded.owner OR l.expires_at <= now()
       RETURNING token`,
      [sessionId, owner, this.ttlMs / 1000, this.opts.node ?? ''],
    );
    const row = rows[0];
    if (!row) return undefined;
    const token = Number(row.token);
    this.held.set(sessionId, { owner, token });
    return token;
  }

  /** Gives the session up; a no-op unless `owner` holds it. */
  async release(sessionId: string, owner: string): Promise<void> {
    this.assertOpen();
    if (this.held.get(sessionId)?.owner === owner) this.held.delete(sessionId);
    await this.pool.query('DELETE FROM session_leases WHERE session_id = $1 AND owner = $2', [sessionId, owner]);
  }

  /** The token this instance holds for the session, if it holds it (as of the last claim or renewal). */
  tokenOf(sessionId: string): number | undefined {
    return this.held.get(sessionId)?.token;
  }

  /**
   * Extends every lease this instance holds and returns (and reports through `onLost`) the ones it no
   * longer holds. Runs on the timer; callable directly. Concurrent calls share one round trip.
   */
  renew(): Promise<string[]> {
    if (this.closed) return Promise.resolve([]);
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Stops renewing. Leases stay in the database and expire unless released. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private async renewOnce(): Promise<string[]> {
    const mine = [...this.held.entries()];
    if (mine.length === 0) return [];
    // Rows are locked in session id order, as commits take their fences (`assertFences`): a renewal and
    // a commit over the same leases can then never deadlock.
    const { rows } = await this.pool.query<{ session_id: string }>(
      `WITH mine AS (
         SELECT l.session_id FROM session_leases l
         JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS h(session_id, owner, token)
           ON l.session_id = h.session_id AND l.owner = h.owner AND l.token = h.token
         WHERE l.expires_at > now()
         ORDER BY l.session_id
         FOR UPDATE OF l
       )
       UPDATE session_leases l SET expires_at = now() + make_interval(secs => $4)
       FROM mine WHERE l.session_id = mine.session_id
       RETURNING l.session_id`,
      [mine.map(([id]) => id), mine.map(([, h]) => h.owner), mine.map(([, h]) => h.token), this.ttlMs / 1000],
    );
    const kept = new Set(rows.map((r) => r.session_id));
    const lost: string[] = [];
    for (const [id, h] of mine) {
      // Skip entries replaced meanwhile (released, or claimed again with another token).
      if (kept.has(id) || this.held.get(id) !== h) continue;
      this.held.delete(id);
      lost.push(id);
    }
    if (lost.length > 0) this.opts.onLost?.(lost);
    return lost;
  }

  private assertOpen(): void {
    if (this.closed) throw new TowerError('internal', 'session lease is closed');
  }
}

/**
 * Every fence of one commit in one statement: throws `session_busy` naming the first session (in id
 * order) whose token is no longer its live lease. The share locks are taken in session id order, like
 * renewals take theirs, so the two never deadlock.
 */
export async function assertFences(client: pg.ClientBase, fences: ReadonlyArray<{ sessionId: string; token: number }>): Promise<void> {
  if (fences.length === 0) return;
  const { rows } = await client.query<{ session_id: string }>(
    `SELECT l.session_id FROM session_leases l
     JOIN unnest($1::text[], $2::bigint[]) AS f(session_id, token) ON l.session_id = f.session_id AND l.token = f.token
     WHERE l.expires_at > now()
     ORDER BY l.session_id
     FOR SHARE OF l`,
    [fences.map((f) => f.sessionId), fences.map((f) => f.token)],
  );
  const live = new Set(rows.map((r) => r.session_id));
  const lost = fences.map((f) => f.sessionId).sort().find((id) => !live.has(id));
  if (lost !== undefined) throw fenceError(lost);
}

function fenceError(sessionId: string): TowerError {
  return new TowerError('session_busy', `session ${sessionId} is owned by another node (lease lost)`, { session_id: sessionId });
}

/**
 * The fence: inside a writer's transaction, throws `session_busy` unless `token` is still the session's
 * live lease. FOR SHARE holds the lease row until the writer commits, so a takeover (which updates the
 * row) waits for that commit, and every write after the takeover fails here.
 */
export async function assertFence(client: pg.ClientBase, sessionId: string, token: number): Promise<void> {
  const { rowCount } = await client.query(
    'SELECT 1 FROM session_leases WHERE session_id = $1 AND token = $2 AND expires_at > now() FOR SHARE',
    [sessionId, token],
  );
  if (rowCount === 0) throw fenceError(sessionId);
}
