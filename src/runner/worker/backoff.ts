/**
 * Reconnect delays: exponential from `minMs` to `maxMs`, with jitter (each delay drawn between half and
 * all of the current step), so a fleet of runners cut off together does not reconnect in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const step = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(step / 2 + (step / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
