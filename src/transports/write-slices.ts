import { performance } from 'node:perf_hooks';

/** A writer with writes held back for a later slice: `runSlice` writes them, in order. */
export interface SliceJob {
  runSlice(): void;
}

/**
 * How long the writes of one loop turn may take before the rest wait for the next turn (ms). One commit
 * fanned out to 1,000 sockets is 1,000 writes of ~20-80 us each: in one turn that held the loop for
 * 40-100 ms (issue 10's bar is 50 ms for every benchmark). The bound leaves room for the rest of the
 * turn (the commit, the ring handing the run to every subscriber) under it.
 */
export const WRITE_SLICE_MS = 8;

const CLOCK_EVERY = 8;

/**
 * Spreads socket writes over loop turns, for every transport of the process alike (one budget, so the
 * hub and SSE fanning out the same commit do not each take a full slice). A writer asks `admit()` before
 * each write: within the current slice's budget, and with nobody queued before it, it writes at once
 * (the common case: a commit to a few subscribers costs no latency); otherwise it queues itself with
 * `defer` and holds what it would have written until its `runSlice`. Jobs run first come, first served,
 * in `setImmediate` slices of the same budget, so timers and I/O run between them.
 *
 * A slice starts at the first write after the previous one closed and closes at the next check phase:
 * everything written in between (the whole poll phase, which may run several commits) counts against it.
 * The jobs' turn in that check phase goes on with the same slice rather than a fresh budget: it runs in
 * the same loop iteration, so a fresh one would let a burst (hundreds of streams ending together) write
 * for two budgets before timers run. Later turns (one per iteration) each have a budget of their own.
 */
export class WriteSlices {
  private sliceStart = -1;
  /** The slice was opened by a write, not by a jobs' turn: the next turn is in the same loop iteration. */
  private openedByWrite = false;
  /** Writes admitted before the clock is read again (a hub write is one frame: ~5 us on a fast machine). */
  private credit = 0;
  private queue: (SliceJob | undefined)[] = [];
  private head = 0;
  private scheduled = false;
  private readonly turn = (): void => this.runTurn();
  /** Jobs ever deferred (diagnostics; tests check that a spread happened). */
  deferrals = 0;

  private readonly clockEvery: number;

  constructor(
    private readonly budgetMs: number = WRITE_SLICE_MS,
    /** The clock (ms); tests pass their own. */
    private readonly now: () => number = () => performance.now(),
  ) {
    // A zero budget (tests) reads the clock at every write: exactly one write per slice.
    this.clockEvery = budgetMs > 0 ? CLOCK_EVERY : 1;
  }

  /** Jobs waiting for a slice. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** True: write now. False: hold the bytes and `defer` (or stay deferred) instead. */
  admit(): boolean {
    if (this.head < this.queue.length) return false;
    if (this.sliceStart >= 0 && --this.credit > 0) return true;
    const now = this.now();
    this.credit = this.clockEvery;
    if (this.sliceStart < 0) {
      this.sliceStart = now;
      this.openedByWrite = true;
      this.schedule();
      return true;
    }
    if (now - this.sliceStart < this.budgetMs) return true;
    this.credit = 0;
    return false;
  }

  /** Queues a job for a later slice. A job queues itself once per batch of held writes. */
  defer(job: SliceJob): void {
    this.deferrals++;
    this.queue.push(job);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  private runTurn(): void {
    this.scheduled = false;
    const queue = this.queue;
    if (this.head === queue.length) {
      // Nothing waits: the slice closes, and the next write starts a fresh one.
      this.sliceStart = -1;
      this.openedByWrite = false;
      return;
    }
    // A slice the writes of this iteration opened goes on; one left by the previous turn is renewed.
    const start = this.openedByWrite ? this.sliceStart : this.now();
    this.openedByWrite = false;
    this.sliceStart = start;
    this.credit = 0;
    while (this.head < queue.length) {
      const job = queue[this.head] as SliceJob;
      queue[this.head++] = undefined;
      try {
        job.runSlice();
      } catch (err) {
        // A bug, thrown on as any callback's would be; the jobs after it still get their slices.
        this.schedule();
        throw err;
      }
      if (this.now() - start >= this.budgetMs) break;
    }
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = queue.slice(this.head);
      this.head = 0;
    }
    // One more turn either way: what the jobs set off in this one (a resumed subscription's next batch, in a
    // microtask) counts against this slice, which closes on the turn after.
    this.schedule();
  }
}

/** The process's one scheduler (tests make their own). */
export const writeSlices = new WriteSlices();
