import type { NewEvent } from '../../protocol/events.js';
import type { CommitResult } from '../../store/types.js';
import type { AppendEffects, EventLog } from '../event-log/index.js';

/** A delta's effects: none (shared; the log only reads them). */
const NO_EFFECTS: AppendEffects = Object.freeze({});

export interface TurnWriterOptions {
  /**
   * Emitted appends of this turn not yet committed before `emit` starts waiting (`settle` and `commit`
   * wait for the backlog to drain below it). Default 1024.
   */
  highWaterMark?: number;
  /**
   * State rows written with the turn's `stream_stopped` (e.g. clearing `active_turn`), so the durable
   * marker of a running turn goes away in the same transaction as the event that closes it.
   */
  endState?: Record<string, string | null>;
  /**
   * Paces the turn's continuations after a commit (`commit`, and a `settle` that had to wait): when one
   * commit settles the appends of many turns (turns started together end together, and their ends share
   * one batch), each turn's code after it (the next step, or the turn's teardown: title, queue drain,
   * readers woken) runs in the reactions of that one commit. The pacer lets a bounded number go on per
   * macrotask turn (e.g. a `StepEnds`); absent, every turn goes on at once.
   */
  wakes?: Pacer;
}

/** Lets callers go on now (`undefined`) or once the promise resolves (a later macrotask turn). */
export interface Pacer {
  admit(): Promise<void> | undefined;
}

/**
 * Appends a turn's events without waiting on each one: text deltas arrive faster than a commit, and the
 * log's group commit batches them. Order is kept by the log; `settle` waits for everything emitted so
 * far and surfaces the first failure, so the loop stops if the store refuses a write.
 *
 * Backpressure: `emit` never blocks (the loop calls it synchronously), but once more than the high-water
 * mark of this turn's appends wait, `drained` is a promise the loop awaits before producing more
 * (`waitForRoom`), so a slow store cannot make a fast model queue events without bound.
 */
export class TurnWriter {
  private failure: unknown;
  private inFlight = 0;
  private maxInFlightSeen = 0;
  private roomWaiters: Array<() => void> = [];
  /** `settle` calls waiting for the backlog to reach zero. */
  private idleWaiters: Array<() => void> = [];
  private readonly highWaterMark: number;
  private readonly endState: Record<string, string | null> | undefined;
  private readonly wakes: Pacer | undefined;

  constructor(
    private readonly log: EventLog,
    readonly sessionId: string,
    opts: TurnWriterOptions = {},
  ) {
    this.highWaterMark = Math.max(1, opts.highWaterMark ?? 1024);
    this.endState = opts.endState;
    this.wakes = opts.wakes;
  }

  emit(event: NewEvent, effects?: AppendEffects): void {
    // The per-token path: no promise per event; one shared callback counts the append done and keeps the
    // first failure.
    this.began();
    this.log.appendWith(this.sessionId, event, this.withEnd(event, effects) ?? NO_EFFECTS, this.emitSettled);
  }

  /** Appends and waits for this event (and all before it) to be committed and published. */
  async commit(event: NewEvent, effects?: AppendEffects): Promise<CommitResult> {
    const appended = this.track(this.log.append(this.sessionId, event, this.withEnd(event, effects)));
    let result: CommitResult;
    try {
      result = await appended;
    } catch (err) {
      this.failure ??= err;
      throw err;
    }
    const admitted = this.wakes?.admit();
    if (admitted) await admitted;
    return result;
  }

  /**
   * Appends a group atomically and waits for it. Unlike `commit`, a refused group does not fail the
   * writer: the caller may change what it writes (e.g. a queue's compare-and-set lost) and try again.
   */
  async tryCommitAll(items: Array<{ event: NewEvent; effects?: AppendEffects }>): Promise<CommitResult[]> {
    return this.track(this.log.appendAll(this.sessionId, items));
  }

  /** True while the backlog is at or above the high-water mark: the producer should `waitForRoom`. */
  get full(): boolean {
    return this.inFlight >= this.highWaterMark;
  }

  /** Resolves at once below the high-water mark, else once the backlog has drained under it. */
  waitForRoom(): Promise<void> {
    if (this.inFlight < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Waits until every append made so far (and any made meanwhile) has settled, then surfaces the first
   * failure of an emitted or committed event. The backlog reaching zero stands for "the last one
   * settled": the writer's appends keep their order, and each settles exactly once.
   */
  async settle(): Promise<void> {
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const admitted = this.wakes?.admit();
      if (admitted) await admitted;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Most appends of this turn ever waiting at once (diagnostics, tests of the bound). */
  get maxInFlight(): number {
    return this.maxInFlightSeen;
  }

  private withEnd(event: NewEvent, effects: AppendEffects | undefined): AppendEffects | undefined {
    if (event.type !== 'stream_stopped' || !this.endState) return effects;
    return { ...effects, state: { ...effects?.state, ...this.endState } };
  }

  private track<T>(appended: Promise<T>): Promise<T> {
    this.began();
    appended.then(this.emitted, this.emitted);
    return appended;
  }

  private began(): void {
    this.inFlight++;
    if (this.inFlight > this.maxInFlightSeen) this.maxInFlightSeen = this.inFlight;
  }

  private readonly emitted = (): void => {
    this.inFlight--;
    if (this.inFlight < this.highWaterMark && this.roomWaiters.length) {
      for (const wake of this.roomWaiters.splice(0)) wake();
    }
    if (this.inFlight === 0 && this.idleWaiters.length) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  };

  private readonly emitSettled = (err: unknown, result?: CommitResult): void => {
    if (result === undefined) this.failure ??= err;
    this.emitted();
  };
}
