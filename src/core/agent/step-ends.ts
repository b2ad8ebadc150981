/** Step ends let through per macrotask turn by default (see `StepEnds`). */
export const STEP_ENDS_PER_TURN = 32;

/**
 * Spreads the ends of many model steps over event-loop turns: at most `perTurn` steps per macrotask turn
 * go on to record their end (assistant message, usage, then `stream_stopped`, the title, the queue
 * drain); the rest wait, in arrival order, for the next turns (`setImmediate`, so timers and sockets run
 * in between).
 *
 * Why: a step's end costs far more of the main thread than a token (the message and usage rows, then
 * their publication, which wakes every reader of the session list and conversation, then the turn's
 * teardown), and it all runs in the promise reactions of the commit that carries it. Turns started
 * together end together (hundreds within one token period): unpaced, their ends share one commit and
 * one publish, and that one macrotask blocks the loop for as long as all of them take. A lone step end
 * never waits: the pacer only acts on a burst. Tokens are not delayed: a step's last text is appended
 * before its end waits here.
 */
export class StepEnds {
  private admitted = 0;
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly perTurn = STEP_ENDS_PER_TURN) {
    if (!(perTurn >= 1)) throw new RangeError('perTurn must be at least 1');
  }

  /**
   * Resolves when this step end may go on; `undefined` (go on now, no promise) while this turn's
   * allowance lasts and nobody waits before it.
   */
  admit(): Promise<void> | undefined {
    this.scheduleTurn();
    if (this.waiting.length === 0 && this.admitted < this.perTurn) {
      this.admitted++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Step ends waiting for a later turn (diagnostics, tests). */
  get queued(): number {
    return this.waiting.length;
  }

  /** A new allowance each macrotask turn, for as long as step ends keep coming or waiting. */
  private scheduleTurn(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.scheduled = false;
    const wake = this.waiting.splice(0, this.perTurn);
    this.admitted = wake.length;
    // Those woken count against this turn's allowance; the next turn starts afresh (so with nothing
    // scheduled, nothing was admitted since the last turn began).
    if (wake.length > 0) this.scheduleTurn();
    for (const resolve of wake) resolve();
  };
}
