/**
 * Single writer per session, as a port: whoever runs a session's turn holds its claim. In one process the
 * in-memory implementation is enough; with many nodes a backend implements it as a lease (a Postgres row
 * with an owner and an expiry, say) and every implementation passes `describeSessionClaimConformance`.
 */
export interface SessionClaim {
  /** Takes the session for `owner`; false if someone else holds it. Claiming what you hold is true. */
  claim(sessionId: string, owner: string): Promise<boolean>;
  /** Gives the session up; a no-op unless `owner` holds it (a late release never frees someone else's). */
  release(sessionId: string, owner: string): Promise<void>;
  /**
   * True while another process holds the session (a cluster lease owned elsewhere): queued work is then
   * that owner's to deliver. Optional; in one process nothing is held elsewhere.
   */
  heldElsewhere?(sessionId: string): Promise<boolean>;
}

export class InProcessSessionClaim implements SessionClaim {
  private readonly owners = new Map<string, string>();

  async claim(sessionId: string, owner: string): Promise<boolean> {
    const holder = this.owners.get(sessionId);
    if (holder !== undefined && holder !== owner) return false;
    this.owners.set(sessionId, owner);
    return true;
  }

  async release(sessionId: string, owner: string): Promise<void> {
    if (this.owners.get(sessionId) === owner) this.owners.delete(sessionId);
  }

  /** Sessions claimed now (diagnostics). */
  get size(): number {
    return this.owners.size;
  }
}
