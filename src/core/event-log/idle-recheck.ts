import type { Logger } from 'pino';
import type { Store } from '../../store/types.js';

/** The timer an idle re-check runs on (tests pass their own, to count and fire them). */
export interface IdleTimers {
  /** Calls `fn` once after `ms`; the timer must not keep the process alive on its own. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: IdleTimers = {
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    // Subscribers waiting for events must not keep the process alive.
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** What the re-check asks of each subscriber of the session (implemented by `Subscription`). */
export interface IdleReader {
  /** Waiting for live events, with nothing queued, held or in flight. */
  readonly idle: boolean;
  readonly cursor: number;
  /** The store holds events after the cursor, or no longer the session: read it. */
  recheck(): void;
}

/** Ceiling of the idle back-off: an idle session of a lossy bus costs one `lastSeq` per this period. */
export const IDLE_RECHECK_MAX_MS = 5000;

/**
 * On a lossy bus the last event of a burst may be lost, and no later event would reveal the gap, so an
 * idle session re-checks the store's `lastSeq` on a backing-off timer. One per session (its `LiveRing`),
 * not one per subscriber: its subscribers share the one timer and the one store read, and a delivery
 * does not re-arm a timer, it only marks activity (`touch`), seen when the timer fires, which then
 * waits the first delay again. So a check comes between one and two first delays after the last
 * activity, then backs off to `IDLE_RECHECK_MAX_MS`; no timer runs while no subscriber is idle.
 */
export class IdleRecheck {
  private timer: unknown;
  private delay: number;
  /** Deliveries since the timer was armed: the next firing only re-arms. */
  private touched = false;
  private reading = false;

  constructor(
    private readonly sessionId: string,
    private readonly readers: Iterable<IdleReader>,
    private readonly store: Pick<Store, 'lastSeq'>,
    private readonly firstMs: number,
    private readonly timers: IdleTimers,
    private readonly logger: Logger,
  ) {
    this.delay = firstMs;
  }

  /** Activity: the next check waits the first delay again (counted lazily, from the next firing). */
  touch(): void {
    this.touched = true;
    this.delay = this.firstMs;
    this.watch();
  }

  /** A subscriber went idle: makes sure a check is coming. */
  watch(): void {
    if (this.timer === undefined && !this.reading) this.timer = this.timers.setTimeout(this.fire, this.delay);
  }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    if (this.touched) {
      this.touched = false;
      return this.watch();
    }
    if (!this.anyIdle()) return;
    this.reading = true;
    this.store.lastSeq(this.sessionId).then(
      (last) => this.checked(last, true),
      (err: unknown) => {
        this.logger.warn({ err, session_id: this.sessionId }, 'idle re-check of the store failed');
        this.checked(undefined, false);
      },
    );
  };

  private anyIdle(): boolean {
    for (const r of this.readers) if (r.idle) return true;
    return false;
  }

  /** `known`: the read succeeded (`last` undefined then means the session is gone). */
  private checked(last: number | undefined, known: boolean): void {
    this.reading = false;
    let waiting = false;
    for (const r of this.readers) {
      if (!r.idle) continue;
      // Something was committed (or the session went) that the bus never delivered.
      if (known && (last === undefined || last > r.cursor)) r.recheck();
      else waiting = true;
    }
    if (!waiting) return;
    if (this.touched) this.touched = false;
    else this.delay = Math.min(this.delay * 2, IDLE_RECHECK_MAX_MS);
    this.watch();
  }
}
