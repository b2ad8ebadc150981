/**
 * group-commit-cycle: the sessions workload's commit cycle without the model streams and sockets, in
 * one process, so two trees of the group commit can be compared under the same machine noise (run the
 * same file from each tree, alternating). `SESSIONS` sessions append token events at `TOKENS_PER_S`
 * in all, from 1 ms timer ticks (each session's token is its own append, as a socket read would make
 * it), through a real EventLog on a file SQLite store (writer thread on, as in the server). Each append
 * first burns `INGEST_US` of CPU (the model stream's parsing), and every published event burns
 * `PUBLISH_US` in its bus listener (the live ring, the SSE encode and write), so the loop is as busy as
 * the server's. Reported: append-to-publish latency p50 / p99 / max, the longest event-loop delay,
 * process CPU per token, the mean batch size.
 *
 *   npx tsx bench/group-commit-cycle.ts            (BENCH_SESSIONS, BENCH_TOKENS_PER_S, BENCH_SECONDS,
 *                                                   BENCH_INGEST_US, BENCH_PUBLISH_US, BENCH_MAX_BATCH,
 *                                                   BENCH_MIN_BATCH)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MemoryBus } from '../src/bus/memory.js';
import { EventLog } from '../src/core/event-log/event-log.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { testSessionRecord } from '../src/store/testing/fixtures.js';
import { Histogram } from './lib/hist.js';
import { emitBench, sig } from './lib/report.js';
import { benchSessionId } from './lib/ids.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const SESSIONS = env('BENCH_SESSIONS', 500);
const TOKENS_PER_S = env('BENCH_TOKENS_PER_S', 25_000);
const SECONDS = env('BENCH_SECONDS', 8);
const INGEST_US = env('BENCH_INGEST_US', 20);
const PUBLISH_US = env('BENCH_PUBLISH_US', 10);
const MAX_BATCH = process.env.BENCH_MAX_BATCH ? Number(process.env.BENCH_MAX_BATCH) : undefined;
/** `BENCH_MIN_BATCH=1` sends every commit to the writer thread (the store's default sends >= 256). */
const MIN_BATCH = process.env.BENCH_MIN_BATCH ? Number(process.env.BENCH_MIN_BATCH) : undefined;
const WARMUP_MS = 1_000;

const burn = (us: number): void => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-gc-cycle-'));
const store = new SqliteStore(path.join(dir, 'tower.db'), MIN_BATCH ? { writerThread: { minBatch: MIN_BATCH } } : {});
const bus = new MemoryBus();
const log = new EventLog(store, bus, MAX_BATCH ? { commits: { maxBatch: MAX_BATCH } } : {});
const ids: string[] = [];
for (let i = 0; i < SESSIONS; i++) {
  const r = testSessionRecord(benchSessionId(i));
  await store.createSession(r);
  ids.push(r.id);
}
const latency = new Histogram();
let measuring = false;
let received = 0;
for (const id of ids) {
  await bus.subscribe(id, (event) => {
    burn(PUBLISH_US);
    if (!measuring) return;
    received++;
    // The token's text is its append time: the event's own stamp, no extra field.
    latency.record(performance.now() - Number((event.data as { content: string }).content));
  });
}
let commits = 0;
let entries = 0;
const commit = store.commit.bind(store);
store.commit = (batch) => {
  if (measuring) {
    commits++;
    entries += batch.length;
  }
  return commit(batch);
};

const loop = monitorEventLoopDelay({ resolution: 1 });
const started = performance.now();
let appended = 0;
let refused = 0;
let next = 0;
let cpu0 = process.cpuUsage();
let measuredFrom = 0;
await new Promise<void>((done) => {
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    if (!measuring && elapsed >= WARMUP_MS) {
      measuring = true;
      measuredFrom = appended;
      cpu0 = process.cpuUsage();
      loop.enable();
    }
    const due = Math.floor((Math.min(elapsed, SECONDS * 1000) * TOKENS_PER_S) / 1000) - appended;
    for (let i = 0; i < due; i++) {
      // One macrotask per token, as each socket read is.
      setImmediate(() => {
        burn(INGEST_US);
        log.append(ids[next++ % SESSIONS] as string, { type: 'agent_choice', data: { content: String(performance.now()) } }).catch(() => refused++);
      });
    }
    appended += Math.max(0, due);
    if (elapsed >= SECONDS * 1000) {
      clearInterval(timer);
      done();
    }
  }, 1);
});
// The last tick's appends are queued immediates: they run before this one.
await new Promise((resolve) => setImmediate(resolve));
await log.flush();
loop.disable();
const cpu = process.cpuUsage(cpu0);
const tokens = appended - measuredFrom;
await log.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const p99 = latency.percentile(99);
emitBench({
  name: 'group-commit-cycle',
  value: p99,
  unit: 'ms (append-to-publish p99)',
  baseline: 50,
  ratio: p99 / 50,
  target: 'p99 <= 50 ms',
  met: p99 <= 50,
  p50_ms: latency.percentile(50),
  p99_ms: p99,
  loop_max_ms: loop.max / 1e6,
  notes:
    `${SESSIONS} sessions, ${TOKENS_PER_S} tok/s for ${SECONDS} s, ingest ${INGEST_US} us + publish ${PUBLISH_US} us per token; ` +
    `received ${received} of ${tokens} (${refused} refused); max ${sig(latency.max)} ms; CPU ${sig((cpu.user + cpu.system) / tokens)} us/token; ` +
    `${commits} commits, mean batch ${sig(entries / Math.max(1, commits))}${MAX_BATCH ? `, maxBatch ${MAX_BATCH}` : ''}${MIN_BATCH ? `, thread minBatch ${MIN_BATCH}` : ''}; load ${os.loadavg()[0]?.toFixed(2)}`,
});
