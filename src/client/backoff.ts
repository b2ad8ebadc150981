/** Exponential reconnect delays: `initial`, doubling up to `max`; `reset()` after a good connection. */
export class Backoff {
  private attempt = 0;

  constructor(
    private initialMs = 250,
    private readonly maxMs = 5_000,
  ) {}

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The server's `retry:` hint replaces the first delay (still capped by the maximum). */
  setInitial(ms: number): void {
    this.initialMs = ms;
  }

  next(): number {
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves after `ms`, or early (returning false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
