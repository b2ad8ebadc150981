/**
 * How much of the current event-loop turn catch-up reads have used. Many subscribers connecting at once
 * arrive in one poll phase, and each one's first store read runs synchronously in its request's
 * callbacks: hundreds of them in one turn hold timers and every other socket for 100 ms or more. Past
 * the budget a read waits for a later turn instead (FIFO, as `setImmediate` is).
 *
 * One per process: there is one event loop to share, whichever session or log the read is for.
 */
export class TurnBudget {
  private start = -1;

  constructor(private readonly budgetMs: number) {}

  /** True once this turn's budget is used; the first call of a turn starts it. */
  spent(): boolean {
    const now = performance.now();
    if (this.start < 0) {
      this.start = now;
      // Runs after whatever this turn already queued, so reads deferred in this turn see it reset first.
      setImmediate(() => {
        this.start = -1;
      });
      return false;
    }
    return now - this.start >= this.budgetMs;
  }
}

/** Catch-up reads started directly in one turn: about 10 ms, then the rest wait for the next turn. */
export const catchUpTurn = new TurnBudget(10);
