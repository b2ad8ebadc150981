/**
 * A probe, not a registered bench: fanout-sse's light run (50k deliveries/s offered) against a Tower
 * whose SSE live write path is traced (servers/tower-trace-server.ts), to tell where a delivery's
 * latency goes: stamp -> the writer's onBatch -> its socket write (at once or deferred to a write
 * slice) -> the client's read. `npx tsx bench/fanout-sse-trace.ts` with `BENCH_SUBS` (1000),
 * `BENCH_TRACE_SLICE_MS` (the write-slice budget; 1000 = off), `BENCH_TRACE_RUNS` (2), `BENCH_TRACE_BARE=1`
 * (the bare server's client latency too).
 */
import type { ClientStats } from './loadgen/sse-clients.js';
import { sleep } from './lib/clock.js';
import { Histogram } from './lib/hist.js';
import { spawnChild, stopAll, type Child } from './lib/proc.js';
import { connectSseSubscribers } from './lib/sse-rig.js';

const SUBS = Number(process.env.BENCH_SUBS ?? 1000);
const RUNS = Number(process.env.BENCH_TRACE_RUNS ?? 2);
const RATE = Math.round(50_000 / SUBS);
const RUN_MS = 3_000;

async function rig(kind: 'tower' | 'bare'): Promise<{ server: Child; clients: Child; sessionId: string; port: number }> {
  const server = spawnChild(kind, kind === 'tower' ? 'servers/tower-trace-server.ts' : 'servers/bare-server.ts');
  const clients = spawnChild(`${kind}-clients`, 'loadgen/sse-clients.ts');
  const { sessionId, port } = await connectSseSubscribers(kind, server, clients, SUBS);
  return { server, clients, sessionId, port };
}

async function once(r: Awaited<ReturnType<typeof rig>>, lastSeq: number, kind: string): Promise<number> {
  await r.clients.request({ type: 'waitSeq', target: lastSeq, timeoutMs: 60_000 }, 70_000);
  await sleep(100);
  await r.clients.request({ type: 'reset' });
  if (kind === 'tower') {
    await r.server.request({ type: 'trace' });
    await r.server.request({ type: 'loopDelay' });
  }
  const produced = await r.server.request<{ lastSeq: number }>(
    { type: 'produce', sessionId: r.sessionId, mode: 'paced', rate: RATE, durationMs: RUN_MS },
    RUN_MS + 30_000,
  );
  const stats = await r.clients.request<ClientStats>({ type: 'waitSeq', target: produced.lastSeq, timeoutMs: 30_000 }, 40_000);
  const h = Histogram.from(stats.hist);
  const line = `${kind} client: n=${h.n} p50=${h.percentile(50).toFixed(1)} p90=${h.percentile(90).toFixed(1)} p99=${h.percentile(99).toFixed(1)} max=${h.max.toFixed(1)} lost=${stats.lost} dups=${stats.dups}`;
  process.stdout.write(`${line}\n`);
  if (kind === 'tower') {
    const { maxMs } = await r.server.request<{ maxMs: number }>({ type: 'loopDelay' });
    const { report } = await r.server.request<{ report: object }>({ type: 'trace' });
    process.stdout.write(`loop max ${maxMs.toFixed(1)} ms\n${JSON.stringify(report, null, 1)}\n`);
  }
  return produced.lastSeq;
}

for (const kind of process.env.BENCH_TRACE_BARE ? (['tower', 'bare'] as const) : (['tower'] as const)) {
  const r = await rig(kind);
  try {
    let last = 1;
    for (let i = 0; i < RUNS; i++) last = await once(r, last, kind);
  } finally {
    await stopAll(r.server, r.clients);
  }
}
