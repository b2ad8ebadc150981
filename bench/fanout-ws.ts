/**
 * fanout-ws: one session appending 100-byte text deltas to N hub subscribers (`subscribe {session_id}`
 * on /hub/ws) in another process, vs a bare `ws` server sending the same `event` frames to N clients
 * (N = 200 and 1,000); and idle memory per hub connection vs a bare `ws` connection.
 *
 * As in fanout-sse, throughput is compared as deliveries per server CPU-second at the same offered load
 * (the load generator shares the 2-core machine, so raw deliveries/s would measure the client). Each
 * run checks every subscriber's seqs for losses and duplicates. `loop_max_ms` is the server's event-loop
 * delay (bench/lib/loop-monitor.ts, in Tower's process and in the bare server's alike) while a run
 * produced and delivered, or while the idle connections connected and settled.
 */
import os from 'node:os';
import type { ClientStats } from './loadgen/sse-clients.js';
import { pick, profArgs } from './lib/cli.js';
import { sleep } from './lib/clock.js';
import { Histogram } from './lib/hist.js';
import { describeStalls, type Stall } from './lib/loop-monitor.js';
import { spawnChild, stopAll, type Child } from './lib/proc.js';
import { emitBench, human, kb, progress, sig, summary, type BenchResult } from './lib/report.js';

const RUN_MS = pick(1_000, 3_000);
const RUNS = pick(1, 2);
/** Offered load in deliveries/s (events/s x subscribers). */
const LOAD = 100_000;
const IDLE = pick(1_000, 3_000);

type Kind = 'tower' | 'bare';
type Cpu = { cpu: NodeJS.CpuUsage; at: number };
type Mem = { mem: NodeJS.MemoryUsage };
type LoopDelay = { maxMs: number; stalls: Stall[] };

interface Rig {
  kind: Kind;
  server: Child;
  clients: Child;
  url: string;
  sessionId: string;
  lastSeq: number;
}

interface Run {
  perCpuSecond: number;
  deliveriesPerSec: number;
  p50: number;
  p99: number;
  lost: number;
  dups: number;
  delivered: number;
  expected: number;
  timedOut: boolean;
  /** The server's longest event-loop delay during the run (ms), and its stalls > 40 ms. */
  loopMaxMs: number;
  stalls: Stall[];
}

/**
 * Extra Node flags for one side's server only (`BENCH_TOWER_NODE_ARGS="--trace-gc"`,
 * `BENCH_BARE_NODE_ARGS=...`), for diagnostics and A/B trials of flags; Node refuses V8 flags in NODE_OPTIONS.
 */
const nodeArgsOf = (kind: Kind): string[] =>
  (process.env[kind === 'tower' ? 'BENCH_TOWER_NODE_ARGS' : 'BENCH_BARE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

const serverFile = (kind: Kind) => (kind === 'tower' ? 'servers/tower-server.ts' : 'servers/bare-ws-server.ts');

async function rig(kind: Kind, subscribers: number): Promise<Rig> {
  const server = spawnChild(kind, serverFile(kind), {
    nodeArgs: [...nodeArgsOf(kind), ...profArgs(kind === 'tower' ? `fanout-ws-${subscribers}` : `fanout-ws-bare-${subscribers}`)],
  });
  const clients = spawnChild(`${kind}-ws-clients`, 'loadgen/ws-clients.ts');
  const { port } = await server.request<{ port: number }>({ type: 'init' });
  const url = `ws://127.0.0.1:${port}/hub/ws`;
  const sessionId = kind === 'tower' ? (await server.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]! : 'bare';
  await clients.request({ type: 'connect', url, count: subscribers, sessionId, since: 1, concurrency: 100 }, 120_000);
  return { kind, server, clients, url, sessionId, lastSeq: 1 };
}

async function run(r: Rig, subscribers: number): Promise<Run> {
  await r.clients.request({ type: 'waitSeq', target: r.lastSeq, timeoutMs: 60_000 }, 70_000);
  await sleep(100);
  await r.clients.request({ type: 'reset' });
  const rate = Math.round(LOAD / subscribers);
  await r.server.request<LoopDelay>({ type: 'loopDelay' });
  const before = await r.server.request<Cpu>({ type: 'cpu' });
  const produced = await r.server.request<{ appended: number; lastSeq: number; startedAt: number }>(
    { type: 'produce', sessionId: r.sessionId, mode: 'paced', rate, durationMs: RUN_MS },
    RUN_MS + 30_000,
  );
  r.lastSeq = produced.lastSeq;
  const stats = await r.clients.request<ClientStats>({ type: 'waitSeq', target: produced.lastSeq, timeoutMs: 30_000 }, 40_000);
  const after = await r.server.request<Cpu>({ type: 'cpu' });
  const { maxMs: loopMaxMs, stalls } = await r.server.request<LoopDelay>({ type: 'loopDelay' });
  const cpuUs = after.cpu.user + after.cpu.system - (before.cpu.user + before.cpu.system);
  const hist = Histogram.from(stats.hist);
  return {
    perCpuSecond: stats.deliveries / (cpuUs / 1e6),
    deliveriesPerSec: stats.deliveries / ((stats.lastRecv - produced.startedAt) / 1000),
    p50: hist.percentile(50),
    p99: hist.percentile(99),
    lost: stats.lost,
    dups: stats.dups,
    delivered: stats.deliveries,
    expected: produced.appended * subscribers,
    timedOut: stats.timedOut === true,
    loopMaxMs,
    stalls,
  };
}

const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.perCpuSecond > a.perCpuSecond ? b : a));

async function idleMemory(kind: Kind): Promise<{ rssPerConn: number; heapPerConn: number; count: number; loopMaxMs: number }> {
  const server = spawnChild(`${kind}-idle`, serverFile(kind), { nodeArgs: ['--expose-gc'] });
  const clients = spawnChild(`${kind}-idle-clients`, 'loadgen/ws-clients.ts');
  try {
    const { port } = await server.request<{ port: number }>({ type: 'init' });
    const url = `ws://127.0.0.1:${port}/hub/ws`;
    await clients.request({ type: 'connect', url, count: 200, since: 0, concurrency: 100 }, 60_000);
    await clients.request({ type: 'closeAll' });
    await sleep(pick(500, 1_500));
    const empty = await server.request<Mem>({ type: 'mem', gc: true });
    // After the forced GC of the "empty" reading (a GC on purpose is not a stall).
    await server.request<LoopDelay>({ type: 'loopDelay' });
    await clients.request({ type: 'connect', url, count: IDLE, since: 0, concurrency: 200 }, 120_000);
    await sleep(pick(500, 1_500));
    const { maxMs: loopMaxMs } = await server.request<LoopDelay>({ type: 'loopDelay' });
    const loaded = await server.request<Mem>({ type: 'mem', gc: true });
    const { count } = await server.request<{ count: number }>({ type: 'subscribers' }).catch(() => ({ count: IDLE }));
    const n = count || IDLE;
    return { rssPerConn: (loaded.mem.rss - empty.mem.rss) / n, heapPerConn: (loaded.mem.heapUsed - empty.mem.heapUsed) / n, count: n, loopMaxMs };
  } finally {
    await stopAll(server, clients);
  }
}

/**
 * `BENCH_WS_SUBS=1000` runs only that fan-out (comma-separated counts; default 200 and 1,000), and
 * skips the idle-memory phase, for quick A/B runs of one size.
 */
const only = process.env.BENCH_WS_SUBS?.split(',').map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
const sizes = only?.length ? only : [200, 1000];

const load = os.loadavg()[0]!;
const results: BenchResult[] = [];
for (const subscribers of sizes) {
  const tower = await rig('tower', subscribers);
  const bare = await rig('bare', subscribers);
  try {
    progress(`fanout-ws ${subscribers}: ${human(LOAD)} deliveries/s x ${RUNS}`);
    const t: Run[] = [];
    const b: Run[] = [];
    for (let i = 0; i < RUNS; i++) {
      t.push(await run(tower, subscribers));
      b.push(await run(bare, subscribers));
    }
    const tb = best(t);
    const bb = best(b);
    const ratio = tb.perCpuSecond / bb.perCpuSecond;
    const loopMax = (runs: Run[]): number => Math.max(...runs.map((x) => x.loopMaxMs));
    const clean = t.every((x) => x.lost + x.dups === 0 && !x.timedOut && x.delivered === x.expected);
    summary(`fanout-ws, ${subscribers} subscribers (tower hub / bare ws)`, [
      ['deliveries per server CPU-second', `${human(tb.perCpuSecond)} / ${human(bb.perCpuSecond)}  (ratio ${sig(ratio)})`],
      ['deliveries/s achieved', `${human(tb.deliveriesPerSec)} / ${human(bb.deliveriesPerSec)}`],
      ['p50 / p99 ms', `${sig(tb.p50)}/${sig(tb.p99)} / ${sig(bb.p50)}/${sig(bb.p99)}`],
      ['server event loop max (ms), all runs', `${sig(loopMax(t))} / ${sig(loopMax(b))}`],
      ['tower loss check', t.map((x) => `${x.lost} lost, ${x.dups} dup, ${x.delivered}/${x.expected}${x.timedOut ? ' TIMED OUT' : ''}`).join('; ')],
    ]);
    results.push({
      name: subscribers === 200 ? 'fanout-ws' : `fanout-ws-${subscribers}`,
      value: tb.perCpuSecond,
      unit: 'deliveries/server-CPU-s',
      baseline: bb.perCpuSecond,
      ratio,
      target: 'ratio >= 0.8',
      met: ratio >= 0.8 && clean,
      p50_ms: tb.p50,
      p99_ms: tb.p99,
      loop_max_ms: loopMax(t),
      notes: `${human(LOAD)} deliveries/s offered; ${clean ? 'no loss, no dup' : 'LOSS OR DUP'}; bare p99 ${sig(bb.p99)} ms; server ${describeStalls(t.flatMap((x) => x.stalls))}; bare server loop max ${sig(loopMax(b))} ms; load avg ${sig(os.loadavg()[0]!)}`,
    });
  } finally {
    // A profiled server writes its profile on a clean exit: give it time (stopAll kills after 10 s).
    if (process.env.BENCH_CPU_PROF) await Promise.all([tower.server.stop(120_000), bare.server.stop(120_000)]);
    await stopAll(tower.server, tower.clients, bare.server, bare.clients);
  }
}

if (!only?.length) await idlePhase();
for (const r of results) emitBench(r);

async function idlePhase(): Promise<void> {
  progress(`fanout-ws: idle memory, ${IDLE} connections`);
  const hubMem = await idleMemory('tower');
  const bareMem = await idleMemory('bare');
  const memRatio = hubMem.rssPerConn / bareMem.rssPerConn;
  summary(`fanout-ws idle memory (${IDLE} idle connections)`, [
    ['RSS per connection (KB) hub / bare ws', `${sig(kb(hubMem.rssPerConn))} / ${sig(kb(bareMem.rssPerConn))}  (ratio ${sig(memRatio)})`],
    ['JS heap per connection (KB) hub / bare ws', `${sig(kb(hubMem.heapPerConn))} / ${sig(kb(bareMem.heapPerConn))}`],
    ['server event loop max while connecting (ms) hub / bare ws', `${sig(hubMem.loopMaxMs)} / ${sig(bareMem.loopMaxMs)}`],
    ['load average (1 min) at start', String(sig(load))],
  ]);
  results.push({
    name: 'fanout-ws-idle-memory',
    value: kb(hubMem.rssPerConn),
    unit: 'KB RSS/connection',
    baseline: kb(bareMem.rssPerConn),
    ratio: memRatio,
    target: 'ratio <= 1.3',
    met: memRatio <= 1.3,
    loop_max_ms: hubMem.loopMaxMs,
    notes:
      `${hubMem.count} idle hub connections; JS heap ${sig(kb(hubMem.heapPerConn))} KB vs ${sig(kb(bareMem.heapPerConn))} KB bare; ` +
      `server loop max while they connected ${sig(hubMem.loopMaxMs)} ms hub vs ${sig(bareMem.loopMaxMs)} ms bare`,
  });
}
