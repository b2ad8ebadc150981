import type { SessionClaim } from '../../core/sessions/claim.js';
import { PgSessionLease, leaseNode, type FenceSource } from '../../store/postgres/index.js';
import type pg from 'pg';

/**
 * The SessionClaim of a node in a cluster: a Postgres lease per claimed session (owner = the turn, node =
 * this node), renewed on a timer, and the fence source of this node's store, so every commit to a
 * session this node holds carries the lease's token. A lease found lost (at a renewal, or by a commit
 * the fence refused) is reported through `onLost`; its token is kept until the holder releases, so the
 * lost writer's later commits keep failing instead of going through unfenced.
 */
export class ClusterClaim implements SessionClaim, FenceSource {
  private readonly lease: PgSessionLease;
  private readonly holders = new Map<string, { owner: string; token: number }>();
  private readonly releasing = new Map<string, Promise<void>>();
  private readonly claiming = new Map<string, Promise<boolean>>();
  private lostHandler: (sessionIds: string[]) => void = () => undefined;

  constructor(
    private readonly pool: pg.Pool,
    readonly node: string,
    opts: { ttlMs: number; renewMs: number },
  ) {
    this.lease = new PgSessionLease(pool, { ...opts, node, onLost: (ids) => this.lostHandler(ids) });
  }

  /** Who hears of leases this node lost (the session manager stops those turns here). */
  onLost(handler: (sessionIds: string[]) => void): void {
    this.lostHandler = handler;
  }

  claim(sessionId: string, owner: string): Promise<boolean> {
    const claiming = this.claimNow(sessionId, owner);
    const tracked = claiming.catch(() => false).finally(() => {
      if (this.claiming.get(sessionId) === tracked) this.claiming.delete(sessionId);
    });
    this.claiming.set(sessionId, tracked);
    return claiming;
  }

  /**
   * True once this node holds the session's lease; a claim still in flight is waited for first (a turn
   * that is starting here may yet lose the session to another node).
   */
  async holds(sessionId: string): Promise<boolean> {
    await this.claiming.get(sessionId);
    return this.holders.has(sessionId);
  }

  private async claimNow(sessionId: string, owner: string): Promise<boolean> {
    // A release of this session still on its way (the previous turn's) must land before the next claim.
    await this.releasing.get(sessionId);
    const token = await this.lease.claimToken(sessionId, owner);
    if (token === undefined) return false;
    this.holders.set(sessionId, { owner, token });
    return true;
  }

  async release(sessionId: string, owner: string): Promise<void> {
    if (this.holders.get(sessionId)?.owner === owner) this.holders.delete(sessionId);
    const done = this.lease.release(sessionId, owner);
    const tracked: Promise<void> = done
      .catch(() => undefined)
      .finally(() => {
        if (this.releasing.get(sessionId) === tracked) this.releasing.delete(sessionId);
      });
    this.releasing.set(sessionId, tracked);
    await done;
  }

  async heldElsewhere(sessionId: string): Promise<boolean> {
    // The turn that just ended here may still be releasing: that lease is not someone else's.
    await this.releasing.get(sessionId);
    if (this.holders.has(sessionId)) return false;
    const node = await leaseNode(this.pool, sessionId);
    return node !== undefined && node !== this.node;
  }

  /** The node holding the session's live lease, if any (this node included). */
  nodeOf(sessionId: string): Promise<string | undefined> {
    return leaseNode(this.pool, sessionId);
  }

  tokenOf(sessionId: string): number | undefined {
    return this.holders.get(sessionId)?.token;
  }

  fenceFailed(sessionId: string): void {
    this.lostHandler([sessionId]);
  }

  /** Stops renewing; the leases still held expire (or are released by their turns first). */
  close(): void {
    this.lease.close();
  }
}
