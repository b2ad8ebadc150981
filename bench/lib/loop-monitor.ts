import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { machineMs } from './clock.js';

/**
 * A stall: [machineMs when the loop turned again, ms late, ms of CPU this process used meanwhile (all its
 * threads), ms the main thread itself ran meanwhile (Linux; absent elsewhere)]. The last one tells the
 * loop's own work from time the OS kept the main thread off a core while other threads ran.
 */
export type Stall = [number, number, number, number?];

/** The calling thread's time on a CPU so far (ms), from the kernel's schedstat; undefined off Linux. */
function threadCpuMs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

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
  let lastTick = machineMs();
  let lastCpu = process.cpuUsage();
  let lastMain = threadCpuMs();
  setInterval(() => {
    const now = machineMs();
    const cpu = process.cpuUsage();
    const main = threadCpuMs();
    const late = now - lastTick - 10;
    if (late > 40 && stalls.length < 1000) {
      const stall: Stall = [now, late, (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000];
      if (main !== undefined && lastMain !== undefined) stall.push(main - lastMain);
      stalls.push(stall);
    }
    lastTick = now;
    lastCpu = cpu;
    lastMain = main;
  }, 10).unref();
  /** Event-loop delay and stalls since the last call (ms), then resets. */
  return () => {
    const out = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, stalls: stalls.splice(0) };
    loopDelay.reset();
    return out;
  };
}

/**
 * Stalls in a line for a BENCH note: how many, the longest, and the longest in which this process was
 * itself busy (its CPU at least half the delay: its own work blocked the loop). A stall with little CPU
 * is the machine (the OS held the process off a core, or a syscall waited) rather than the code.
 */
export function describeStalls(stalls: Stall[]): string {
  if (stalls.length === 0) return 'no stalls > 40 ms';
  const fmt = (s: Stall): string => `${Math.round(s[1])} ms (CPU ${Math.round(s[2])})`;
  const longest = (xs: Stall[]): Stall | undefined => xs.reduce<Stall | undefined>((a, b) => (a && a[1] >= b[1] ? a : b), undefined);
  const busy = longest(stalls.filter((s) => s[2] >= s[1] / 2));
  return `${stalls.length} stalls > 40 ms, longest ${fmt(longest(stalls)!)}, longest busy ${busy ? fmt(busy) : 'none'}`;
}

/**
 * The main thread's busy share (event-loop utilization) in 250 ms slices, [machineMs at the slice's end,
 * 0..1]: a loop near 1 queues every socket read behind the others, which shows as latency without any
 * single long stall. Each call returns the slices since the previous one.
 */
export function startEluSampler(): () => Array<[number, number]> {
  let slices: Array<[number, number]> = [];
  let prev = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    slices.push([machineMs(), performance.eventLoopUtilization(now, prev).utilization]);
    prev = now;
  }, 250).unref();
  return () => {
    const out = slices;
    slices = [];
    return out;
  };
}
