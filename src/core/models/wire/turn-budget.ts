import { performance } from 'node:perf_hooks';

/**
 * How much of one event-loop turn the model streams of this process may take, together. Every socket
 * chunk of a model stream asks `admit()` first; once the turn has run `budgetMs` since its first chunk
 * (counting everything that ran meanwhile: parsing, the agent loop's microtasks, other sockets), later
 * chunks wait (`defer`: the socket is paused, the chunk held) and run, in arrival order, from the next
 * `setImmediate` on, again within the budget per turn. So hundreds of streams that all became readable
 * in one poll phase cannot hold the loop for long: timers, other sockets (HTTP requests, SSE
 * subscribers) and the group commit's `setImmediate` get their turn every `budgetMs` or so. Below
 * saturation a turn never reaches the budget and nothing waits; the cost is one `performance.now()` per
 * chunk.
 */
export class TurnBudget {
  /** When the current turn's first chunk ran; -1 between turns. */
  private turnStart = -1;
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly budgetMs: number) {}

  /** True when a chunk may run now. False: the caller `defer`s it (a chunk never overtakes a waiting one). */
  admit(): boolean {
    const now = performance.now();
    if (this.turnStart < 0) {
      this.turnStart = now;
      this.schedule();
      return true;
    }
    return this.waiting.length === 0 && now - this.turnStart < this.budgetMs;
  }

  /** Runs `work` in a coming turn, after the work deferred before it. */
  defer(work: () => void): void {
    this.waiting.push(work);
    this.schedule();
  }

  /** Chunks waiting for a turn (diagnostics, tests). */
  get backlog(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.scheduled = false;
    this.turnStart = performance.now();
    // At least one item per turn, whatever the budget: waiting work always moves.
    do this.waiting.shift()?.();
    while (this.waiting.length > 0 && performance.now() - this.turnStart < this.budgetMs);
    if (this.waiting.length > 0) this.schedule();
    else this.turnStart = -1;
  };
}

/** The process's budget, shared by every model stream: 10 ms of a turn. */
export const MODEL_TURN_BUDGET = new TurnBudget(10);
