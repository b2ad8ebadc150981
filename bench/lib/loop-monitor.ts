import { monitorEventLoopDelay } from 'node:perf_hooks';
import { wallMs } from './clock.js';

/** A stall: [wallMs when the loop turned again, ms late, ms of CPU this process used meanwhile]. */
export type Stall = [number, number, number];

/**
 * The event-loop watch every benchmark server runs, Tower and the bare baselines alike: a 10 ms
 * `monitorEventLoopDelay` and a 10 ms timer that records stalls. It costs ~10 ms of CPU per second even
 * when idle (200 wake-ups a second, a `cpuUsage` each), so it runs in the baselines too: a benchmark that
 * compares CPU per delivery must not charge the harness to one side only.
 *
 * The stalls let a benchmark tell when they happened (start-up, release, steady state) and whether the
 * server was working (CPU close to the delay) or waiting for a core the machine's other jobs held (CPU
 * far below it). A 10 ms timer that comes back more than 40 ms late is a stall.
 */
export function startLoopMonitor(): () => { maxMs: number; p99Ms: number; stalls: Stall[] } {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const stalls: Stall[] = [];
  let lastTick = wallMs();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = wallMs();
    const cpu = process.cpuUsage();
    const late = now - lastTick - 10;
    if (late > 40 && stalls.length < 1000) stalls.push([now, late, (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000]);
    lastTick = now;
    lastCpu = cpu;
  }, 10).unref();
  /** Event-loop delay and stalls since the last call (ms), then resets. */
  return () => {
    const out = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, stalls: stalls.splice(0) };
    loopDelay.reset();
    return out;
  };
}
