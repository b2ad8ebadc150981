import { PerformanceObserver, constants, performance, type PerformanceEntry } from 'node:perf_hooks';
import { machineMs } from './clock.js';

/** A GC pause: [wall ms when it ended (clock.ts's machineMs), ms, kind]. */
export type GcPause = [number, number, string];

export interface GcStats {
  count: number;
  ms: number;
  maxMs: number;
  /** Pauses of 10 ms or more (at most 200), for lining them up with event-loop stalls. */
  long: GcPause[];
}

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

const kindOf = (e: PerformanceEntry): string => KINDS[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';

function observe(into: () => GcStats): PerformanceObserver {
  const obs = new PerformanceObserver((list) => {
    const stats = into();
    // Entries are stamped on performance.now()'s clock; machineMs's origin puts them on the stalls' clock.
    const origin = machineMs() - performance.now();
    for (const e of list.getEntries()) {
      stats.count++;
      stats.ms += e.duration;
      if (e.duration > stats.maxMs) stats.maxMs = e.duration;
      if (e.duration >= 10 && stats.long.length < 200) stats.long.push([origin + e.startTime + e.duration, e.duration, kindOf(e)]);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return obs;
}

const empty = (): GcStats => ({ count: 0, ms: 0, maxMs: 0, long: [] });

/** Counts GC runs and their pause time from now on; the returned function stops watching and reports them. */
export function watchGc(): () => GcStats {
  const stats = empty();
  const obs = observe(() => stats);
  return () => {
    obs.disconnect();
    return stats;
  };
}

/**
 * A GC watch for a benchmark server's whole life (as loop-monitor.ts's): each call returns the pauses
 * since the previous call, then starts over.
 */
export function startGcMonitor(): () => GcStats {
  let stats = empty();
  observe(() => stats);
  return () => {
    const out = stats;
    stats = empty();
    return out;
  };
}
