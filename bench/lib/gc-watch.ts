import { PerformanceObserver } from 'node:perf_hooks';

/** Counts GC runs and their pause time from now on; the returned function stops watching and reports them. */
export function watchGc(): () => { count: number; ms: number } {
  let count = 0;
  let ms = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      count++;
      ms += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return () => {
    obs.disconnect();
    return { count, ms };
  };
}
