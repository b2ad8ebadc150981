/**
 * A probe, not a registered bench: the sessions benchmark (N sessions x 50 tok/s from the fake model
 * server, one SSE subscriber each) against a Tower traced per hop (servers/tower-hops-server.ts), with
 * a driver that keeps its sampled tokens' write and receipt times (loadgen/sessions-hops-driver.ts), to
 * tell where a token waits: model write -> Tower's socket read (unknown with http1.ts's `onread`: folded
 * into the next hop) -> decoded part -> event appended ->
 * group commit done -> published -> SSE writer's onBatch -> SSE socket write -> subscriber's read.
 * `npx tsx bench/sessions-hops.ts` with `BENCH_SESSIONS` (200), `BENCH_HOPS_STREAM_S` (10).
 * Tokens written from 1 s after the release count (as sessions' steady p99).
 */
import type { SessionsStats } from './loadgen/sessions-driver.js';
import { Histogram } from './lib/hist.js';
import { spawnChild, stopAll, type Child } from './lib/proc.js';
import { TOKENS_PER_SECOND, WARMUP_MS } from './lib/sessions-run.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const STREAM_S = Number(process.env.BENCH_HOPS_STREAM_S ?? 10);
const DRAIN_MS = 3_000;
const NAMES = ['model write', 'socket read', 'decoded part', 'appended', 'commit done', 'published', 'onBatch', 'SSE write', 'client read'];

type Row = Array<number | null>;

async function run(): Promise<{ stats: SessionsStats; tower: Row[]; driverRows: Row[]; loop: { maxMs: number; stalls: unknown[] } }> {
  const driver = spawnChild('sessions-hops-driver', 'loadgen/sessions-hops-driver.ts');
  let server: Child | undefined;
  try {
    const { url } = await driver.request<{ url: string }>({ type: 'startFake', tokensPerSecond: TOKENS_PER_SECOND, tokens: TOKENS_PER_SECOND * STREAM_S });
    server = spawnChild('tower', 'servers/tower-hops-server.ts');
    const models = { providers: { fake: { type: 'openai-compatible', base_url: url } }, default_model: 'fake/gpt-test' };
    const { port } = await server.request<{ port: number }>({ type: 'init', models });
    await server.request({ type: 'loopDelay' });
    const stats = await driver.request<SessionsStats>(
      { type: 'run', mode: 'tower', host: '127.0.0.1', port, sessions: SESSIONS, warmupMs: WARMUP_MS, streamMs: STREAM_S * 1000 + DRAIN_MS, barrierMs: 90_000, phases: 'spread' },
      90_000 + STREAM_S * 1000 + DRAIN_MS + 60_000,
    );
    const loop = await server.request<{ maxMs: number; stalls: unknown[] }>({ type: 'loopDelay' });
    const { rows: tower } = await server.request<{ rows: Row[] }>({ type: 'hops' }, 60_000);
    const { rows: driverRows } = await driver.request<{ rows: Row[] }>({ type: 'hops' }, 60_000);
    return { stats, tower, driverRows, loop };
  } finally {
    await server?.kill();
    await stopAll(server, driver);
  }
}

const hist = (values: number[]): Histogram => {
  const h = new Histogram();
  for (const v of values) h.record(v);
  return h;
};
const pct = (h: Histogram): string => (h.n === 0 ? '-' : `n=${h.n} p50=${h.percentile(50).toFixed(1)} p90=${h.percentile(90).toFixed(1)} p99=${h.percentile(99).toFixed(1)} max=${h.max.toFixed(1)}`);

const { stats, tower, driverRows, loop } = await run();
const byKey = new Map<number, number[]>();
for (const [key, w, r] of driverRows) byKey.set(key as number, [w ?? NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, r ?? NaN]);
for (const [key, ...t] of tower) {
  const row = byKey.get(key as number);
  if (row) for (let i = 0; i < 7; i++) row[i + 1] = t[i] ?? NaN;
}
const from = stats.releasedAt + WARMUP_MS;
const rows = [...byKey.values()].filter((r) => r[0]! >= from && r[8] === r[8]);
let noRead = 0;
for (const r of rows) {
  // A part taken from a chunk read earlier (paused socket, deferred turn): its read time is unknown; the wait counts in write -> read.
  if (r[1] !== r[1]) {
    noRead++;
    r[1] = r[2]!;
  }
}
const complete = rows.filter((r) => r.every((v) => v === v));
const total = hist(complete.map((r) => r[8]! - r[0]!));
const p99 = total.percentile(99);
process.stdout.write(
  `sessions-hops: ${SESSIONS} sessions x ${TOKENS_PER_SECOND} tok/s for ${STREAM_S} s; driver steady p50/p99 ${Histogram.from(stats.steady).percentile(50).toFixed(1)} / ${Histogram.from(stats.steady).percentile(99).toFixed(1)} ms, censored ${stats.censored}; loop max ${loop.maxMs.toFixed(0)} ms\n` +
    `sampled steady tokens ${rows.length}, complete ${complete.length}, read time unknown ${noRead}\n` +
    `total (write -> client read): ${pct(total)}\n\nper hop (ms):\n`,
);
const tail = complete.filter((r) => r[8]! - r[0]! >= p99);
for (let i = 0; i < 8; i++) {
  const h = hist(complete.map((r) => r[i + 1]! - r[i]!));
  const since = hist(complete.map((r) => r[i + 1]! - r[0]!));
  const tailMean = tail.reduce((a, r) => a + r[i + 1]! - r[i]!, 0) / Math.max(1, tail.length);
  process.stdout.write(
    `  ${`${NAMES[i]} -> ${NAMES[i + 1]}`.padEnd(28)} ${pct(h)}  | since write p50=${since.percentile(50).toFixed(1)} p99=${since.percentile(99).toFixed(1)} | tail (>= p99 total, n=${tail.length}) mean ${tailMean.toFixed(1)}\n`,
  );
}
