/**
 * Live, in-memory state of sessions: which one runs a turn, and which one is being deleted. The store
 * holds everything durable; this is what "one writer per session" is enforced with. All checks and
 * updates here are synchronous, so a check-then-set can never interleave with another request.
 */
export interface RunningTurn {
  turnId: string;
  abort: AbortController;
  /** Settles when the turn has written `stream_stopped` (or failed to). */
  done: Promise<void>;
}

interface LiveSession {
  turn?: RunningTurn;
  deleting?: boolean;
  /** Background work tied to the session (title generation): aborted on delete. */
  background: Set<AbortController>;
  idleWaiters: Set<() => void>;
}

export class ActiveSessions {
  private readonly live = new Map<string, LiveSession>();

  private entry(id: string): LiveSession {
    let e = this.live.get(id);
    if (!e) {
      e = { background: new Set(), idleWaiters: new Set() };
      this.live.set(id, e);
    }
    return e;
  }

  turn(id: string): RunningTurn | undefined {
    return this.live.get(id)?.turn;
  }

  isDeleting(id: string): boolean {
    return this.live.get(id)?.deleting === true;
  }

  /** Claims the session for a turn; false if one is running or the session is going away. */
  claim(id: string, turn: RunningTurn): boolean {
    const e = this.entry(id);
    if (e.turn || e.deleting) return false;
    e.turn = turn;
    return true;
  }

  release(id: string, turn: RunningTurn): void {
    const e = this.live.get(id);
    if (!e || e.turn !== turn) return;
    e.turn = undefined;
    for (const wake of e.idleWaiters) wake();
    e.idleWaiters.clear();
    this.prune(id, e);
  }

  /** Marks the session as being deleted (no new turns) and returns its running turn, if any. */
  beginDelete(id: string): RunningTurn | undefined {
    const e = this.entry(id);
    e.deleting = true;
    for (const ctrl of e.background) ctrl.abort();
    e.background.clear();
    return e.turn;
  }

  endDelete(id: string, deleted: boolean): void {
    const e = this.live.get(id);
    if (!e) return;
    e.deleting = false;
    if (deleted) {
      for (const wake of e.idleWaiters) wake();
      this.live.delete(id);
    } else {
      this.prune(id, e);
    }
  }

  /** Tracks background work so deleting the session can stop it. */
  background(id: string): { signal: AbortSignal; done(): void } {
    const e = this.entry(id);
    const ctrl = new AbortController();
    // Work started while the session is being deleted is stillborn.
    if (e.deleting) ctrl.abort();
    else e.background.add(ctrl);
    return {
      signal: ctrl.signal,
      done: () => {
        e.background.delete(ctrl);
        this.prune(id, e);
      },
    };
  }

  /** Resolves when the session has no running turn, or after `timeoutMs`. True if idle. */
  waitIdle(id: string, timeoutMs: number): Promise<boolean> {
    const e = this.live.get(id);
    if (!e?.turn) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        e.idleWaiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      e.idleWaiters.add(wake);
    });
  }

  runningTurns(): Array<[string, RunningTurn]> {
    const out: Array<[string, RunningTurn]> = [];
    for (const [id, e] of this.live) if (e.turn) out.push([id, e.turn]);
    return out;
  }

  private prune(id: string, e: LiveSession): void {
    if (!e.turn && !e.deleting && e.background.size === 0 && e.idleWaiters.size === 0) this.live.delete(id);
  }
}
