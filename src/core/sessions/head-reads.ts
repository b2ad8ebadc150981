/**
 * Store reads of a session's last seq shared by the callers of one turn of the event loop: subscribers of
 * a session connecting together (a reconnect burst) cost one `lastSeq` query, not one each. The read
 * starts on the next macrotask, after every caller that shares it asked, so each caller's answer is at
 * least as new as its own call (a delete committed before a caller asked is seen by its read).
 */
export class HeadReads {
  private readonly pending = new Map<string, Promise<number | undefined>>();

  constructor(private readonly read: (sessionId: string) => Promise<number | undefined>) {}

  lastSeq(sessionId: string): Promise<number | undefined> {
    let p = this.pending.get(sessionId);
    if (!p) {
      p = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        // Callers from now on need a read that starts after them: the next one.
        this.pending.delete(sessionId);
        return this.read(sessionId);
      });
      this.pending.set(sessionId, p);
    }
    return p;
  }
}
