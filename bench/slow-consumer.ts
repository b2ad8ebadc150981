/**
 * slow-consumer: one SSE subscriber stops reading for 30 s (quick: 3 s) while its session appends
 * 10,000 events/s, then resumes. Measured: the server's RSS growth from the moment it stalls until it has
 * caught up (sampled every 100 ms in the server), and events lost or duplicated (checked by seq on the
 * client). The subscriber pauses its socket, so TCP backpressure reaches the server as from a real slow
 * client. Baseline in the same run: the same timeline with a subscriber that never stalls.
 */
import os from 'node:os';
import type { ClientStats } from './loadgen/sse-clients.js';
import { pick, profArgs } from './lib/cli.js';
import { sleep, machineMs } from './lib/clock.js';
import { spawnChild, stopAll } from './lib/proc.js';
import { emitBench, human, mb, progress, sig, summary } from './lib/report.js';

const RATE = 10_000;
const STALL_MS = pick(3_000, 30_000);
const WARM_MS = pick(1_000, 2_000);
const AFTER_MS = pick(1_000, 4_000);

interface Outcome {
  /** Longest event-loop delay in the server from the stall until caught up. */
  loopDelayMaxMs: number;
  growth: number;
  /** V8 heapTotal growth over the same window. */
  heapGrowth: number;
  rssBefore: number;
  rssMax: number;
  appended: number;
  lastSeq: number;
  received: number;
  lost: number;
  dups: number;
  complete: boolean;
  catchUpMs: number;
  overflows: number;
  storeReads: number;
  maxQueued: number;
}

async function run(stall: boolean): Promise<Outcome> {
  const server = spawnChild('tower', 'servers/tower-server.ts', { nodeArgs: stall ? profArgs('slow-consumer') : [] });
  const clients = spawnChild('slow-client', 'loadgen/sse-clients.ts');
  try {
    const { port } = await server.request<{ port: number }>({ type: 'init' });
    const sessionId = (await server.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]!;
    await clients.request({ type: 'connect', host: '127.0.0.1', port, paths: [`/api/sessions/${sessionId}/events?since=0`] });
    await clients.request({ type: 'waitSeq', target: 1, timeoutMs: 10_000 });
    await server.request({ type: 'sampleMem', on: true, intervalMs: 100 });
    const total = WARM_MS + STALL_MS + AFTER_MS;
    const t0 = machineMs();
    const producing = server.request<{ appended: number; lastSeq: number }>(
      { type: 'produce', sessionId, mode: 'paced', rate: RATE, durationMs: total },
      total + 60_000,
    );
    await sleep(WARM_MS);
    await server.request({ type: 'loopDelay' });
    const stallFrom = machineMs();
    let resumedAt = stallFrom;
    if (stall) {
      await clients.request({ type: 'stall', index: 0, ms: STALL_MS });
      resumedAt = (await clients.next<{ at: number }>('resumed', STALL_MS + 30_000)).at;
    }
    const produced = await producing;
    const stats = await clients.request<ClientStats>({ type: 'waitSeq', target: produced.lastSeq, timeoutMs: 60_000 }, 70_000);
    const caughtUpAt = machineMs();
    const delay = await server.request<{ maxMs: number }>({ type: 'loopDelay' });
    const { samples } = await server.request<{ samples: Array<[number, number, number, number, number]> }>({ type: 'sampleMem', on: false });
    if (process.env.BENCH_DEBUG) {
      for (const [t, rss, total, used, ext] of samples.filter((_, i) => i % 10 === 0)) {
        progress(`t=${sig((t - t0) / 1000)} rss ${sig(mb(rss))} heapTotal ${sig(mb(total))} heapUsed ${sig(mb(used))} external ${sig(mb(ext))}`);
      }
    }
    const heapBefore = samples.filter(([t]) => t <= stallFrom).at(-1)?.[2] ?? samples[0]![2];
    const heapMax = Math.max(heapBefore, ...samples.filter(([t]) => t >= stallFrom && t <= caughtUpAt).map((s) => s[2]));
    const sub = (await server.request<{ stats: Array<{ overflows: number; storeReads: number; maxQueued: number }> }>({ type: 'subscriptionStats' })).stats[0];
    const conn = await clients.request<{ lastSeq: number; frames: number; lost: number; dups: number }>({ type: 'conn', index: 0 });
    const before = samples.filter(([t]) => t <= stallFrom).at(-1)?.[1] ?? samples[0]![1];
    const during = samples.filter(([t]) => t >= stallFrom && t <= caughtUpAt).map(([, rss]) => rss);
    const rssMax = Math.max(before, ...during);
    progress(`slow-consumer ${stall ? 'stalled' : 'baseline'}: ${human(produced.appended)} events in ${sig((caughtUpAt - t0) / 1000)} s`);
    return {
      loopDelayMaxMs: delay.maxMs,
      heapGrowth: heapMax - heapBefore,
      growth: rssMax - before,
      rssBefore: before,
      rssMax,
      appended: produced.appended,
      lastSeq: produced.lastSeq,
      received: conn.frames,
      lost: conn.lost,
      dups: conn.dups,
      complete: conn.lastSeq === produced.lastSeq && !stats.timedOut,
      catchUpMs: caughtUpAt - Math.max(resumedAt, t0 + total),
      overflows: sub?.overflows ?? NaN,
      storeReads: sub?.storeReads ?? NaN,
      maxQueued: sub?.maxQueued ?? NaN,
    };
  } finally {
    await stopAll(server, clients);
  }
}

progress(`slow-consumer: ${human(RATE)} events/s, stall ${STALL_MS / 1000} s`);
const stalled = await run(true);
const baseline = await run(false);

const rows = (o: Outcome): Array<[string, string]> => [
  ['RSS before stall -> max until caught up (MB)', `${sig(mb(o.rssBefore))} -> ${sig(mb(o.rssMax))} (+${sig(mb(o.growth))})`],
  ['V8 heapTotal growth, same window (MB)', String(sig(mb(o.heapGrowth)))],
  ['events appended / received', `${o.appended} / ${o.received} (paced appender: ${RATE * ((WARM_MS + STALL_MS + AFTER_MS) / 1000)} due)`],
  ['server event loop blocked up to (ms)', String(Math.round(o.loopDelayMaxMs))],
  ['lost / duplicated (by seq)', `${o.lost} / ${o.dups}${o.complete ? '' : ' (INCOMPLETE)'}`],
  ['caught up after production ended / resume (ms)', String(Math.round(o.catchUpMs))],
  ['live queue max, overflows, store reads', `${o.maxQueued}, ${o.overflows}, ${o.storeReads}`],
];
summary(`slow-consumer: stalled ${STALL_MS / 1000} s at ${human(RATE)} events/s`, rows(stalled));
summary('slow-consumer: baseline (never stalls)', [...rows(baseline), ['load average (1 min)', String(sig(os.loadavg()[0]!))]]);
const growthMb = mb(stalled.growth);
const lossless = stalled.lost === 0 && stalled.dups === 0 && stalled.complete;
emitBench({
  name: 'slow-consumer',
  value: growthMb,
  unit: 'MB RSS growth',
  baseline: mb(baseline.growth),
  ratio: stalled.growth / Math.max(1, baseline.growth),
  target: '<= 50 MB, 0 lost/duplicated',
  met: growthMb <= 50 && lossless,
  loop_max_ms: stalled.loopDelayMaxMs,
  notes:
    `stall ${STALL_MS / 1000} s at ${human(RATE)} ev/s; lost ${stalled.lost}, dup ${stalled.dups}, ${stalled.complete ? 'complete' : 'INCOMPLETE'}; ` +
    `${stalled.overflows} overflows, ${stalled.storeReads} store reads; caught up ${Math.round(stalled.catchUpMs)} ms after resume/end; ` +
    `server event loop blocked up to ${Math.round(stalled.loopDelayMaxMs)} ms (no stall: ${Math.round(baseline.loopDelayMaxMs)} ms), ` +
    `in-process appender got ${stalled.appended} of ${RATE * ((WARM_MS + STALL_MS + AFTER_MS) / 1000)} appends in; ` +
    `baseline = same timeline, no stall`,
});
