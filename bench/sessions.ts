/**
 * sessions: 500 concurrent sessions, each driven by the fake model server at 50 tokens/s (25,000 tokens/s
 * in all) through Tower's real path (POST /messages, AI SDK openai-compatible provider over HTTP,
 * agent_choice appends, group commit, SSE), one SSE subscriber each. Token latency: from the fake
 * server's write of a chunk to the subscriber's receipt of its agent_choice (same process, same clock).
 * Keeping up: the backlog (tokens written, not yet received) must not grow while every session streams.
 *
 * Baseline: the same fake server and subscribers through a bare node:http relay (bench/servers/bare-relay.ts).
 */
import os from 'node:os';
import type { SessionsStats } from './loadgen/sessions-driver.js';
import { pick, profArgs } from './lib/cli.js';
import { Histogram } from './lib/hist.js';
import { spawnChild, stopAll, type Child } from './lib/proc.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 500);
const TOKENS_PER_SECOND = 50;
const STREAM_S = pick(8, 20);
const WARMUP_MS = pick(3_000, 4_000);
const TOKENS = TOKENS_PER_SECOND * STREAM_S;
/** How long after the streams' nominal end a run may take to deliver the rest (then it stops anyway). */
const DRAIN_MS = pick(8_000, 20_000);

interface Outcome {
  stats: SessionsStats;
  steady: Histogram;
  all: Histogram;
  /** Offered tokens/s over the window where every session streamed. */
  writtenPerSec: number;
  /** Backlog growth over that window, tokens/s (linear fit). */
  backlogSlope: number;
  maxBacklog: number;
  endBacklog: number;
  serverCpuPct: number;
}

type Cpu = { cpu: NodeJS.CpuUsage; at: number };

function analyse(stats: SessionsStats, serverCpuPct: number): Outcome {
  const from = stats.startedAt + WARMUP_MS;
  const to = stats.firstStopAt || stats.timeline.at(-1)!.t;
  const window = stats.timeline.filter((s) => s.t >= from && s.t <= to);
  const pts = window.map((s) => [(s.t - from) / 1000, s.written - s.received] as const);
  let slope = 0;
  if (pts.length >= 2) {
    const n = pts.length;
    const mx = pts.reduce((a, p) => a + p[0], 0) / n;
    const my = pts.reduce((a, p) => a + p[1], 0) / n;
    const sxy = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
    const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    slope = sxx > 0 ? sxy / sxx : 0;
  }
  const first = window[0];
  const last = window.at(-1);
  return {
    stats,
    steady: Histogram.from(stats.steady),
    all: Histogram.from(stats.all),
    writtenPerSec: first && last && last.t > first.t ? ((last.written - first.written) / (last.t - first.t)) * 1000 : NaN,
    backlogSlope: slope,
    maxBacklog: Math.max(0, ...pts.map((p) => p[1])),
    endBacklog: pts.at(-1)?.[1] ?? NaN,
    serverCpuPct,
  };
}

async function runTower(): Promise<Outcome> {
  const driver = spawnChild('sessions-driver', 'loadgen/sessions-driver.ts');
  let server: Child | undefined;
  try {
    const { url } = await driver.request<{ url: string }>({ type: 'startFake', tokensPerSecond: TOKENS_PER_SECOND, tokens: TOKENS });
    server = spawnChild('tower', 'servers/tower-server.ts', { nodeArgs: profArgs('sessions') });
    const models = { providers: { fake: { type: 'openai-compatible', base_url: url } }, default_model: 'fake/gpt-test' };
    const { port } = await server.request<{ port: number }>({ type: 'init', models });
    const before = await server.request<Cpu>({ type: 'cpu' });
    const stats = await driver.request<SessionsStats>(
      { type: 'run', mode: 'tower', host: '127.0.0.1', port, sessions: SESSIONS, warmupMs: WARMUP_MS, deadlineMs: STREAM_S * 1000 + DRAIN_MS },
      STREAM_S * 1000 + 90_000,
    );
    const after = await server.request<Cpu>({ type: 'cpu' });
    return analyse(stats, cpuPct(before, after));
  } finally {
    await stopAll(server, driver);
  }
}

async function runBare(): Promise<Outcome> {
  const driver = spawnChild('sessions-driver', 'loadgen/sessions-driver.ts');
  const relay = spawnChild('bare-relay', 'servers/bare-relay.ts');
  try {
    const { url } = await driver.request<{ url: string }>({ type: 'startFake', tokensPerSecond: TOKENS_PER_SECOND, tokens: TOKENS });
    const { port } = await relay.request<{ port: number }>({ type: 'init', modelUrl: url });
    const before = await relay.request<Cpu>({ type: 'cpu' });
    const stats = await driver.request<SessionsStats>(
      { type: 'run', mode: 'bare', host: '127.0.0.1', port, sessions: SESSIONS, warmupMs: WARMUP_MS, deadlineMs: STREAM_S * 1000 + DRAIN_MS },
      STREAM_S * 1000 + 90_000,
    );
    const after = await relay.request<Cpu>({ type: 'cpu' });
    return analyse(stats, cpuPct(before, after));
  } finally {
    await stopAll(relay, driver);
  }
}

const cpuPct = (a: Cpu, b: Cpu): number =>
  ((b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000 / (b.at - a.at)) * 100;

const keepsUp = (o: Outcome): boolean =>
  o.stats.completed === o.stats.sessions && o.backlogSlope < 0.02 * SESSIONS * TOKENS_PER_SECOND && o.stats.received === o.stats.written;

progress(`sessions: tower, ${SESSIONS} sessions x ${TOKENS_PER_SECOND} tokens/s for ${STREAM_S} s`);
const tower = await runTower();
progress('sessions: bare relay');
const bare = await runBare();

const rows = (o: Outcome): Array<[string, string]> => [
  ['offered tokens/s (all streaming)', human(o.writtenPerSec)],
  ['steady p50 / p99 / max ms', `${sig(o.steady.percentile(50))} / ${sig(o.steady.percentile(99))} / ${sig(o.steady.max)}`],
  ['all tokens p99 ms', sig(o.all.percentile(99))],
  ['backlog growth tokens/s, max, at end', `${sig(o.backlogSlope)}, ${o.maxBacklog}, ${o.endBacklog}`],
  ['received / written, unmatched', `${o.stats.received} / ${o.stats.written}, ${o.stats.unmatched}`],
  ['sessions completed', `${o.stats.completed} / ${o.stats.sessions}`],
  ['server CPU / load generator CPU', `${Math.round(o.serverCpuPct)}% / ${Math.round(o.stats.cpuPct)}%`],
  ['keeps up', keepsUp(o) ? 'yes' : 'NO'],
];
summary('sessions: tower', rows(tower));
summary('sessions: bare relay', [...rows(bare), ['load average (1 min)', String(sig(os.loadavg()[0]!))]]);

const p99 = tower.steady.percentile(99);
const baseP99 = bare.steady.percentile(99);
emitBench({
  name: 'sessions',
  value: p99,
  unit: 'ms (token p99)',
  baseline: baseP99,
  ratio: p99 / baseP99,
  target: 'p99 <= 50 ms, no growing backlog',
  met: p99 <= 50 && keepsUp(tower),
  p50_ms: tower.steady.percentile(50),
  p99_ms: p99,
  notes:
    `${SESSIONS} sessions x ${TOKENS_PER_SECOND} tok/s, ${STREAM_S} s streams, steady window after ${WARMUP_MS / 1000} s; ` +
    `offered ${human(tower.writtenPerSec)} tok/s; backlog growth ${sig(tower.backlogSlope)} tok/s (max ${tower.maxBacklog}); ` +
    `keeps up: ${keepsUp(tower) ? 'yes' : 'no'}; server CPU ${Math.round(tower.serverCpuPct)}% vs relay ${Math.round(bare.serverCpuPct)}%; ` +
    `baseline p50 ${sig(bare.steady.percentile(50))} ms`,
});
