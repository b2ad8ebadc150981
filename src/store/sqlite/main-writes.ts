import type { CommitGate } from './wal-bound.js';

/**
 * What a write on the store's own connection must not meet, because it would wait for it in SQLite's
 * busy handler, a sleep on the event loop: a hold of the WAL bound or the idle TRUNCATE (`gate`), the
 * idle TRUNCATE still running past its hold (it has the write lock), a writer-thread batch in flight
 * (the thread's transaction has it).
 */
export interface WriteHazards {
  gate: CommitGate;
  /** The idle TRUNCATE's checkpoint, while it runs past its hold. */
  idleRunning(): Promise<void> | undefined;
  /** Writer-thread batches sent and not answered. */
  threadInFlight(): number;
  /** Resolves once the thread has no batch in flight. */
  threadDrained(): Promise<void>;
  /** How long one drain may hold commits before they are let through again (the loop then tries anew). */
  maxDrainMs: number;
}

/**
 * The store's writes other than `commit` (sessions, state, imports, messaging, runner tokens), on its
 * own connection. One runs at once, synchronously, when nothing is in its way and no earlier one waits,
 * as before; otherwise it waits as a promise, behind the writes called before it, until its way is
 * clear, and then runs synchronously in the same turn as that last check (so no thread batch or
 * checkpoint can slip in between). A writer-thread batch in flight is waited out under the commit gate:
 * commits called meanwhile wait behind the write instead of sending more batches (otherwise a thread
 * kept busy would never be idle for it), and the thread's batches sent before it finish first. A domain
 * error or a driver failure rejects the write's promise as `work` threw it.
 */
export class MainWrites {
  private waiting = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly hazards: WriteHazards) {}

  /** Runs `work` now if it can, else once nothing is in its way; resolves or rejects with its outcome. */
  run<T>(work: () => T): Promise<T> {
    if (this.waiting === 0 && this.clear()) {
      try {
        return Promise.resolve(work());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    this.waiting++;
    const turn = this.tail.then(() => this.whenClear(work)).finally(() => this.waiting--);
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** Runs `work` now if nothing is in its way and no write waits; false (not run) otherwise. */
  tryNow(work: () => void): boolean {
    if (this.waiting > 0 || !this.clear()) return false;
    work();
    return true;
  }

  private clear(): boolean {
    const h = this.hazards;
    return !h.gate.closed && h.idleRunning() === undefined && h.threadInFlight() === 0;
  }

  private async whenClear<T>(work: () => T): Promise<T> {
    const h = this.hazards;
    for (;;) {
      if (h.gate.closed) {
        await h.gate.pass();
        continue;
      }
      const idle = h.idleRunning();
      if (idle) {
        await idle;
        continue;
      }
      if (h.threadInFlight() === 0) return work();
      // Inside the hold, after the drain, commits wait and no checkpoint can start; a commit that had
      // passed the gate before the hold may still have sent a batch meanwhile: then round again.
      const ran = await h.gate.hold(h.maxDrainMs, h.threadDrained, async () => (h.threadInFlight() === 0 ? { value: work() } : undefined));
      if (ran) return ran.value;
    }
  }
}

/** How a table's statements reach the store's connection: reads at once, writes through `MainWrites`. */
export interface ConnectionAccess {
  /** Runs a read now, with the store's error mapping (domain errors kept, driver failures `internal`). */
  read<T>(work: () => T): T;
  /** Runs a write when it can (`MainWrites.run`), with the same mapping. */
  write<T>(work: () => T): Promise<T>;
}
