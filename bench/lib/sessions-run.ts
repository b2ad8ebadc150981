/**
 * One run of the sessions benchmark (bench/sessions.ts, bench/sessions-capacity.ts): N sessions at
 * `TOKENS_PER_SECOND` through Tower or the bare relay, its analysis, and the readable rows. Stream and
 * drain lengths are per run, so the capacity search can step through short phases.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SessionsStats } from '../loadgen/sessions-driver.js';
import type { Phases } from '../loadgen/paced-model.js';
import type { GcStats } from './gc-watch.js';
import { profArgs, profDir } from './cli.js';
import { Histogram } from './hist.js';
import { spawnChild, stopAll, type Child } from './proc.js';
import { human, sig } from './report.js';

export const TOKENS_PER_SECOND = 50;
export const WARMUP_MS = 1_000;
const BARRIER_MS = 90_000;

/** How long a run streams and drains, where its streams start, and the Tower process's extra flags. */
export interface RunShape {
  /** Each stream's length (s); tokens per stream = TOKENS_PER_SECOND x this. */
  streamS: number;
  /** After the streams' nominal end, how long undelivered tokens may still arrive. */
  drainMs: number;
  phases: Phases;
  /** Extra Node flags for the Tower process only. */
  towerNodeArgs: string[];
}

export interface Outcome {
  sessions: number;
  /** The run's stream length (s). */
  streamS: number;
  stats: SessionsStats;
  steady: Histogram;
  startupMs: number;
  /** Written and received tokens/s over the window where every session streams. */
  writtenPerSec: number;
  receivedPerSec: number;
  /** Backlog growth over that window, tokens/s (linear fit). */
  backlogSlope: number;
  maxBacklog: number;
  serverCpuPct: number;
  cpuUsPerToken: number;
  /** Longest event-loop delay in Tower during the run (NaN for the relay). */
  loopDelayMaxMs?: number;
  /** Tower's stalls over 40 ms, [machineMs, ms late, CPU ms meanwhile] (bench/servers/tower-server.ts). */
  stalls?: Array<[number, number, number, number?]>;
  /** The server's GC pauses during the run. */
  gc?: GcStats;
  /** The load generator over the window where every session streams: CPU % and us per token written (each also received). */
  genCpuPct: number;
  genUsPerToken: number;
  /** The server's main-thread utilization while every session streams: mean and busiest 250 ms slice. */
  elu?: { mean: number; max: number };
}

type Cpu = { cpu: NodeJS.CpuUsage; at: number };

function analyse(sessions: number, streamS: number, stats: SessionsStats, before: Cpu, after: Cpu): Outcome {
  const from = stats.releasedAt + WARMUP_MS;
  const to = Math.min(stats.releasedAt + streamS * 1000, stats.firstStopAt || Infinity);
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
  const span = first && last && last.t > first.t ? (last.t - first.t) / 1000 : NaN;
  const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  const genUs = first && last ? last.cpuUs - first.cpuUs : NaN;
  return {
    sessions,
    streamS,
    stats,
    steady: Histogram.from(stats.steady),
    startupMs: stats.releasedAt - stats.startedAt,
    writtenPerSec: first && last ? (last.written - first.written) / span : NaN,
    receivedPerSec: first && last ? (last.received - first.received) / span : NaN,
    backlogSlope: slope,
    maxBacklog: Math.max(0, ...pts.map((p) => p[1])),
    serverCpuPct: (cpuUs / 1000 / (after.at - before.at)) * 100,
    cpuUsPerToken: cpuUs / Math.max(1, stats.received),
    genCpuPct: (genUs / 1000 / (span * 1000)) * 100,
    genUsPerToken: first && last ? genUs / Math.max(1, last.written - first.written) : NaN,
  };
}

export async function runSessions(kind: 'tower' | 'bare', sessions: number, shape: RunShape): Promise<Outcome> {
  const { streamS, drainMs } = shape;
  // BENCH_DRIVER_PROF=1: a CPU profile of the load generator (same place as BENCH_CPU_PROF's).
  const driverProf = process.env.BENCH_DRIVER_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${profDir(`sessions-driver-${kind}-${sessions}`)}`]
    : [];
  const driver = spawnChild('sessions-driver', 'loadgen/sessions-driver.ts', { nodeArgs: driverProf });
  let server: Child | undefined;
  try {
    const { url } = await driver.request<{ url: string }>({ type: 'startFake', tokensPerSecond: TOKENS_PER_SECOND, tokens: TOKENS_PER_SECOND * streamS });
    let port: number;
    if (kind === 'tower') {
      server = spawnChild('tower', 'servers/tower-server.ts', { nodeArgs: [...shape.towerNodeArgs, ...profArgs(`sessions-${sessions}`)] });
      const models = { providers: { fake: { type: 'openai-compatible', base_url: url } }, default_model: 'fake/gpt-test' };
      ({ port } = await server.request<{ port: number }>({ type: 'init', models }));
    } else {
      server = spawnChild('bare-relay', 'servers/bare-relay.ts');
      ({ port } = await server.request<{ port: number }>({ type: 'init', modelUrl: url }));
    }
    const before = await server.request<Cpu>({ type: 'cpu' });
    await server.request({ type: 'loopDelay' });
    await server.request({ type: 'gc' });
    await server.request({ type: 'elu' });
    const stats = await driver.request<SessionsStats>(
      {
        type: 'run',
        mode: kind,
        host: '127.0.0.1',
        port,
        sessions,
        warmupMs: WARMUP_MS,
        streamMs: streamS * 1000 + drainMs,
        barrierMs: BARRIER_MS,
        phases: shape.phases,
      },
      BARRIER_MS + streamS * 1000 + drainMs + 60_000,
    );
    const after = await server.request<Cpu>({ type: 'cpu' }, 120_000);
    const delay = await server.request<{ maxMs: number; stalls: Array<[number, number, number, number?]> }>({ type: 'loopDelay' });
    const gc = await server.request<GcStats>({ type: 'gc' });
    const { slices } = await server.request<{ slices: Array<[number, number]> }>({ type: 'elu' });
    await driver.request({ type: 'hangUp' });
    const streaming = slices.filter(([t]) => t > stats.releasedAt + WARMUP_MS && t <= stats.releasedAt + streamS * 1000).map(([, u]) => u);
    const elu = streaming.length ? { mean: streaming.reduce((a, b) => a + b, 0) / streaming.length, max: Math.max(...streaming) } : undefined;
    if (kind === 'tower' && process.env.BENCH_CPU_PROF) dumpStalls(`sessions-${sessions}`, { releasedAt: stats.releasedAt, warmupMs: WARMUP_MS, streamS, stalls: delay.stalls, gc: gc.long });
    return { ...analyse(sessions, streamS, stats, before, after), loopDelayMaxMs: delay.maxMs, stalls: delay.stalls, gc, elu };
  } finally {
    // A Tower still working through a backlog takes long to shut down cleanly; its numbers are in.
    if (kind === 'tower' && !process.env.BENCH_CPU_PROF) await server?.kill();
    await stopAll(server, driver);
  }
}

/** What bench/stall-parts.ts reads beside a profiled Tower's .cpuprofile: its stalls and GC pauses (machineMs). */
export interface StallDump {
  releasedAt: number;
  warmupMs: number;
  streamS: number;
  stalls: Array<[number, number, number, number?]>;
  gc: GcStats['long'];
}

function dumpStalls(label: string, dump: StallDump): void {
  const dir = profDir(label);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'stalls.json'), JSON.stringify(dump));
}

export const keepsUp = (o: Outcome): boolean =>
  o.stats.releasedWith === o.sessions &&
  o.backlogSlope < 0.02 * o.sessions * TOKENS_PER_SECOND &&
  o.receivedPerSec >= 0.95 * o.writtenPerSec &&
  o.stats.censored === 0;

/** Where Tower's stalls fell: before the release (turn start-up), in the warm-up second, while streaming, after. */
export function stallText(o: Outcome): string {
  const phases = [
    ['start-up', (t: number) => t < o.stats.releasedAt],
    ['warm-up', (t: number) => t >= o.stats.releasedAt && t < o.stats.releasedAt + WARMUP_MS],
    ['steady', (t: number) => t >= o.stats.releasedAt + WARMUP_MS && t < o.stats.releasedAt + o.streamS * 1000],
    // After the streams' nominal end: every turn ends within one token period (stream_stopped, the message, usage, titles).
    ['turn ends', (t: number) => t >= o.stats.releasedAt + o.streamS * 1000],
  ] as const;
  return phases
    .map(([name, inPhase]) => {
      const inside = (o.stalls ?? []).filter(([t]) => inPhase(t));
      const worst = inside.reduce<[number, number, number, number?] | undefined>((w, s) => (w === undefined || s[1] > w[1] ? s : w), undefined);
      return `${name} ${inside.length}${worst ? ` (max ${Math.round(worst[1])}, CPU ${Math.round(worst[2])}${mainText(worst)})` : ''}`;
    })
    .join(', ');
}

/** The main thread's own CPU in a stall (Linux), as `, main N`. */
const mainText = (s: [number, number, number, number?]): string => (s[3] === undefined ? '' : `, main ${Math.round(s[3])}`);

/** A stall's span: the 10 ms tick it delayed, and the delay. */
const stallSpan = ([t, late]: [number, number, number, number?]): [number, number] => [t - late - 10, t];
const gcIn = (o: Outcome, [from, to]: [number, number]) => (o.gc?.long ?? []).filter(([end, ms]) => end - ms < to && end > from);

/** Each stall after the warm-up: when (s after release), ms late, CPU ms, and the GC pauses >= 10 ms inside it. */
function steadyStalls(o: Outcome): string {
  const all = (o.stalls ?? []).filter(([t]) => t >= o.stats.releasedAt + WARMUP_MS);
  if (all.length === 0) return 'none';
  // The 12 longest, in time order.
  const steady = [...all].sort((a, b) => b[1] - a[1]).slice(0, 12).sort((a, b) => a[0] - b[0]);
  const text = steady
    .map((s) => {
      const gcs = gcIn(o, stallSpan(s)).map(([, ms, kind]) => `${kind} ${Math.round(ms)}`);
      return `+${sig((s[0] - o.stats.releasedAt) / 1000)} s ${Math.round(s[1])}/${Math.round(s[2])}${s[3] === undefined ? '' : `/${Math.round(s[3])}`}${gcs.length ? ` [${gcs.join(', ')}]` : ''}`;
    })
    .join('; ');
  return all.length > steady.length ? `${text} (+${all.length - steady.length} shorter)` : text;
}

/** The generator's share of the machine: CPU % and us per token (written once, received once) while every session streams. */
export const genText = (o: Outcome): string => `${Math.round(o.genCpuPct)}%, ${sig(o.genUsPerToken)} us/token`;
const gcText = (o: Outcome): string =>
  o.gc ? `${o.gc.count} pauses, ${Math.round(o.gc.ms)} ms in all, max ${sig(o.gc.maxMs)} ms (${o.gc.long.length} >= 10 ms)` : 'n/a';
export const eluText = (o: Outcome): string => (o.elu ? `${Math.round(o.elu.mean * 100)}% (busiest 250 ms: ${Math.round(o.elu.max * 100)}%)` : 'n/a');
const lateText = (o: Outcome): string => {
  const late = Histogram.from(o.stats.lateness);
  return `${sig(late.percentile(99))} / ${sig(late.max)}`;
};

export const p99Text = (o: Outcome): string => `${o.stats.censored > 0 ? '>= ' : ''}${sig(o.steady.percentile(99))}`;

export const rows = (o: Outcome): Array<[string, string]> => [
  [`time to start ${o.sessions} turns (s)`, `${sig(o.startupMs / 1000)}${o.stats.releasedWith < o.sessions ? ` (only ${o.stats.releasedWith} arrived)` : ''}`],
  ['tokens/s written / received (all streaming)', `${human(o.writtenPerSec)} / ${human(o.receivedPerSec)}`],
  ['token latency p50 / p99 ms', `${sig(o.steady.percentile(50))} / ${p99Text(o)}`],
  ['backlog growth tokens/s, max backlog', `${sig(o.backlogSlope)}, ${o.maxBacklog}`],
  ['tokens undelivered at the end (window)', String(o.stats.censored)],
  ['tokens per agent_choice event (all received)', String(sig(o.stats.received / Math.max(1, o.stats.deltaEvents)))],
  ['server CPU %, us per delivered token (incl. start-up)', `${Math.round(o.serverCpuPct)}%, ${sig(o.cpuUsPerToken)}`],
  ['load generator CPU % (whole run)', `${Math.round(o.stats.cpuPct)}%`],
  ['load generator while streaming: CPU %, us per token', genText(o)],
  ['generator lateness against the schedule p99 / max ms', lateText(o)],
  ['unmatched / duplicate tokens', `${o.stats.unmatched} / ${o.stats.duplicates}`],
  ['server GC', gcText(o)],
  ['server main thread busy while streaming', eluText(o)],
  ['server event loop blocked up to (ms)', String(Math.round(o.loopDelayMaxMs ?? NaN))],
  ['stalls > 40 ms by phase: count (longest, its CPU ms, main thread)', stallText(o)],
  ['stalls after warm-up: +s after release, ms late / CPU ms / main thread CPU ms [GC]', steadyStalls(o)],
  ['keeps up', keepsUp(o) ? 'yes' : 'NO'],
];
