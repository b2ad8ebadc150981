import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Where one commit runs: on the store's own connection (the event loop) or on the writer thread. */
export type Place = 'inline' | 'thread';

/** What the policy knows of the writer thread (`WriterThread` is one: nothing is allocated per commit). */
export interface ThreadView {
  /** The thread cannot start: every commit runs inline. */
  readonly broken: boolean;
  /** Batches sent to it and not yet answered. */
  readonly inFlight: number;
  /** It is up (its connection open): a batch sent now does not wait for its start-up. */
  readonly up: boolean;
  /** Starts it if none runs. */
  prestart(): void;
}

/**
 * How loaded the main thread has been over the last window, 0..1: the share of the window it was
 * busy, counting the writer thread's commit time as if it had run here. Counted that way, moving
 * commits to the thread does not by itself make the loop look idle and bring them back (the policy
 * would otherwise flap between the two places once per window).
 */
export interface LoadSignal {
  load(): number;
}

export interface PlacementOptions {
  /** Commits of at least this many entries always go to the thread (wave 4's rule). Default 256. */
  minBatch?: number;
  /** A smaller commit goes to the thread only when the loop is saturated and it spans this many sessions. Default 4. */
  minSessions?: number;
  /** Saturated from this load on (LoadSignal)... Default 0.75. */
  busyAbove?: number;
  /** ...until it falls below this one. Default 0.5. */
  idleBelow?: number;
}

/**
 * The placement rule. Inline, a commit costs the loop its SQLite work (~4 us per event at the sessions
 * bench's shape); on the thread, the loop pays the hand-over and the reply (tens of us per commit plus
 * ~0.3 us per entry) and the commit waits for a second thread. So a commit goes to the thread when:
 * - a thread batch is in flight (batches stay in order; this connection never waits on its lock);
 * - it is large (`minBatch`), whatever the load;
 * - the loop is saturated (hysteresis between `busyAbove` and `idleBelow`) and the commit spans at
 *   least `minSessions` sessions: many sessions' producers share the loop, so what the commit leaves
 *   there is time they get back. A commit of one or a few sessions stays inline even on a saturated
 *   loop: that is a serial writer (one append awaited after another, one burst awaited), for which the
 *   loop is busy with exactly that writer's round trip; the thread only lengthens it (append serial,
 *   append concurrent: one session).
 * Below the thread's readiness (a thread still starting) the saturated path stays inline and asks for
 * the thread to start instead: the first offloaded commit never waits for a start-up.
 */
export class CommitPlacement {
  private readonly minBatch: number;
  private readonly minSessions: number;
  private readonly busyAbove: number;
  private readonly idleBelow: number;
  private saturated = false;

  constructor(
    private readonly signal: LoadSignal,
    opts: PlacementOptions = {},
  ) {
    this.minBatch = Math.max(1, Math.floor(opts.minBatch ?? 256));
    this.minSessions = Math.max(1, Math.floor(opts.minSessions ?? 4));
    this.busyAbove = opts.busyAbove ?? 0.75;
    this.idleBelow = Math.min(this.busyAbove, opts.idleBelow ?? 0.5);
  }

  /** Whether the last look at the load found the loop saturated. */
  get busy(): boolean {
    return this.saturated;
  }

  /** Where `entries` commit. */
  place(entries: readonly { session_id: string }[], thread: ThreadView): Place {
    if (thread.broken) return 'inline';
    if (thread.inFlight > 0 || entries.length >= this.minBatch) return 'thread';
    // Fewer entries than sessions needed: no need to look at the load at all (the serial path's case).
    if (entries.length < this.minSessions) return 'inline';
    const load = this.signal.load();
    this.saturated = this.saturated ? load >= this.idleBelow : load >= this.busyAbove;
    if (!this.saturated || !spans(entries, this.minSessions)) return 'inline';
    if (!thread.up) {
      thread.prestart();
      return 'inline';
    }
    return 'thread';
  }
}

/** Whether `entries` name at least `n` sessions (stops counting at `n`). */
export function spans(entries: readonly { session_id: string }[], n: number): boolean {
  if (n <= 1) return entries.length > 0;
  let previous: string | undefined;
  const seen = new Set<string>();
  for (const e of entries) {
    // Runs of one session are common (a turn's deltas): the set is consulted once per run.
    if (e.session_id === previous) continue;
    previous = e.session_id;
    seen.add(e.session_id);
    if (seen.size >= n) return true;
  }
  return false;
}

/**
 * The event loop's utilisation over windows of `windowMs`, plus the writer thread's commit time in the
 * window (`threadBusyMs`: a running total), clamped to 1. Sampled lazily, on the policy's calls: the
 * value is that of the last window that ended at or before the call (a long idle gap is one window,
 * and reads as idle).
 */
export class LoopLoad implements LoadSignal {
  private elu: EventLoopUtilization;
  private at: number;
  private threadMs: number;
  private value = 0;

  constructor(
    private readonly threadBusyMs: () => number,
    private readonly windowMs = 100,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.elu = performance.eventLoopUtilization();
    this.at = clock();
    this.threadMs = threadBusyMs();
  }

  load(): number {
    const now = this.clock();
    const span = now - this.at;
    if (span <= 0 || span < this.windowMs) return this.value;
    const elu = performance.eventLoopUtilization();
    const threadMs = this.threadBusyMs();
    const loop = performance.eventLoopUtilization(elu, this.elu).utilization;
    this.value = Math.min(1, loop + (threadMs - this.threadMs) / span);
    this.elu = elu;
    this.at = now;
    this.threadMs = threadMs;
    return this.value;
  }
}
