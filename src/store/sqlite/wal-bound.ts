/**
 * The bound on the WAL under writes that never pause. A PASSIVE checkpoint copies frames into the
 * database file while the writer goes on, but the WAL only starts over from its beginning when a write
 * transaction begins with every frame already copied (and no reader on a snapshot inside the WAL): with
 * a commit arriving every few microseconds that moment never comes, and every commit extends the file
 * (x3 measured 139 MB after the append bench's 20k serial appends). So once a timer checkpoint finds the
 * WAL past `restartFrames`, and found nothing there that a reader still needs, the store holds new
 * commits (`CommitGate`: they wait as promises, the event loop runs on), lets the writer thread's
 * batches in flight finish, and runs one more PASSIVE checkpoint, which now copies the last frames; the
 * first commit after the hold starts the WAL over, and `journal_size_limit` cuts a file a long reader
 * left large back to a bounded size there. The hold never takes a lock: nothing waits on SQLite's busy
 * handler, and a commit arriving meanwhile is only delayed, by at most `maxHoldMs`.
 *
 * `WalBoundPolicy` decides when. A timer checkpoint that could not copy every frame it found means a
 * reader holds an old snapshot: holding commits would not let the WAL restart, so it does not hold
 * (`pinned`), whatever the reader's length. A hold that did not lead to a restart (a reader arrived, the
 * hold timed out) backs off: the next 1, 2, 4 ... 32 chances are skipped.
 */

/** What the policy reads of a finished checkpoint (`CheckpointResult` is one). */
export interface WalLook {
  mode: 'PASSIVE' | 'TRUNCATE';
  busy: boolean;
  logFrames: number;
  checkpointedFrames: number;
  /** The WAL file's size in bytes, and its checkpoint sequence (header bytes 12-15; -1: no header). */
  walBytes: number;
  walSeq: number;
}

export interface WalStats {
  /** The WAL file's size at the last checkpoint (bytes). */
  walBytes: number;
  /** Holds run (commits held while a catch-up checkpoint ran). */
  holds: number;
  /** Holds after which the WAL started over. */
  restarts: number;
  /** Holds that did not lead to a restart (timed out, or a reader kept frames); each one backs off. */
  failed: number;
  /** Of those, holds released at `maxHoldMs` before the catch-up finished. */
  timedOut: number;
  /** Checkpoints past the bound that left frames a reader still needed: no hold then. */
  pinned: number;
}

/** Chances skipped after a hold that did not restart the WAL, at most (doubling from 1). */
const MAX_BACKOFF = 32;

export class WalBoundPolicy {
  readonly stats: WalStats = { walBytes: 0, holds: 0, restarts: 0, failed: 0, timedOut: 0, pinned: 0 };
  /**
   * After a successful catch-up, until a later look says whether the WAL started over: its sequence then,
   * and the writes counter then. Only a look after a later write can tell (that write restarts the WAL).
   */
  private awaiting: { seq: number; writes: number } | undefined;
  private skip = 0;
  private backoff = 0;

  constructor(readonly restartFrames: number) {}

  /** After a timer checkpoint (`writes`: the writer's counter as the tick read it): whether to catch up now. */
  next(r: WalLook, writes: number): boolean {
    this.stats.walBytes = r.walBytes;
    if (r.mode !== 'PASSIVE') {
      // The idle TRUNCATE empties the WAL itself; a pending verdict has nothing left to judge.
      this.awaiting = undefined;
      return false;
    }
    if (this.awaiting !== undefined) {
      // No write since the catch-up: the WAL is as it left it, and another hold would change nothing.
      if (writes === this.awaiting.writes) return false;
      if (r.walSeq !== this.awaiting.seq) {
        this.stats.restarts++;
        this.backoff = 0;
      } else this.failed();
      this.awaiting = undefined;
    }
    if (r.logFrames < this.restartFrames) return false;
    if (r.busy || r.checkpointedFrames < r.logFrames) {
      this.stats.pinned++;
      return false;
    }
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    return true;
  }

  /** The catch-up's outcome: its checkpoint's result, or undefined if the hold ended first; `writes` as then. */
  caughtUp(r: WalLook | undefined, writes: number): void {
    this.stats.holds++;
    if (r) this.stats.walBytes = r.walBytes;
    if (!r) {
      this.stats.timedOut++;
      this.failed();
    } else if (r.busy || r.checkpointedFrames < r.logFrames) this.failed();
    else this.awaiting = { seq: r.walSeq, writes };
  }

  private failed(): void {
    this.stats.failed++;
    this.backoff = Math.min(MAX_BACKOFF, this.backoff ? this.backoff * 2 : 1);
    this.skip = this.backoff;
  }
}

/**
 * Holds commits: while `hold` runs, callers of `pass()` wait, and they are let through in the order
 * they arrived (a commit called later never overtakes one held earlier: group commit relies on call
 * order). Outside a hold `closed` is false and callers skip `pass()` altogether.
 */
export class CommitGate {
  private held = false;
  /** The promise the next waiter chains on: each waiter's turn comes after the one before it. */
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** A caller must `await pass()` before writing. */
  get closed(): boolean {
    return this.held || this.queued > 0;
  }

  pass(): Promise<void> {
    this.queued++;
    const turn = this.tail.then(() => {
      this.queued--;
    });
    this.tail = turn;
    return turn;
  }

  /**
   * Holds writes while `drain` (what was sent before the hold finishing) and then `work` run, for at
   * most `maxMs` in all: resolves with `work`'s result, or undefined if time ran out first (the writes
   * go on then; `work` is left to finish on its own). Undefined at once if a hold is still draining.
   */
  async hold<T>(maxMs: number, drain: () => Promise<void>, work: () => Promise<T>): Promise<T | undefined> {
    if (this.closed) return undefined;
    let open: () => void = () => {};
    this.held = true;
    this.tail = new Promise<void>((resolve) => (open = resolve));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, maxMs), undefined);
    });
    try {
      const drained = await Promise.race([drain().then(() => true), expired.then(() => false)]);
      if (!drained) return undefined;
      return await Promise.race([work(), expired]);
    } finally {
      clearTimeout(timer);
      this.held = false;
      open();
    }
  }
}
