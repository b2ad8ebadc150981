/**
 * token-append: the per-token cost of the write path alone, in-process: `TurnWriter.emit` (what the
 * agent loop calls per text delta) through a real EventLog, group commit and SQLite store (`:memory:`, so
 * no fsync noise) and the in-memory bus with one listener per session. 100 sessions each emit one delta
 * per tick; every 20 ticks all writers `settle`. Reports wall us and CPU us per token, and the GC's count
 * and pause time per 10k tokens (the proxy for allocations per token). Run it alone, under the bench lock:
 * `flock /work/wt/bench.lock npx tsx bench/token-append.ts [tokens]`, in each tree to compare.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { MemoryBus } from '../src/bus/index.js';
import { TurnWriter } from '../src/core/agent/turn-writer.js';
import { EventLog } from '../src/core/event-log/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { testSessionRecord } from '../src/store/testing/fixtures.js';
import type { SessionRecord } from '../src/store/types.js';
import { watchGc } from './lib/gc-watch.js';
import { emitTokens } from './lib/token-loop.js';
import { benchSessionId } from './lib/ids.js';

const TOKENS = Number(process.argv[2] ?? 200_000);
const SESSIONS = 100;
const TICKS_PER_SETTLE = 20;

function session(i: number): SessionRecord {
  return testSessionRecord(benchSessionId(i), { working_dir: os.tmpdir() });
}

interface Row {
  wallUs: number;
  cpuUs: number;
  gcs: number;
  gcMs: number;
}

async function round(tokens: number): Promise<Row> {
  const store = openSqliteStore(':memory:');
  const bus = new MemoryBus();
  const log = new EventLog(store, bus);
  const writers: TurnWriter[] = [];
  let published = 0;
  for (let i = 0; i < SESSIONS; i++) {
    const s = session(i);
    await store.createSession(s);
    bus.subscribe(s.id, () => published++);
    writers.push(new TurnWriter(log, s.id));
  }
  const gc = watchGc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const emitted = await emitTokens(writers, tokens, TICKS_PER_SETTLE);
  await log.flush();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { count: gcs, ms: gcMs } = gc();
  await log.close();
  await store.close();
  if (published < emitted) throw new Error(`published ${published} of ${emitted}`);
  return { wallUs: (wall * 1000) / emitted, cpuUs: (cpu.user + cpu.system) / emitted, gcs: (gcs * 10_000) / emitted, gcMs: (gcMs * 10_000) / emitted };
}

await round(20_000); // warm-up
const rows: Row[] = [];
for (let i = 0; i < 3; i++) rows.push(await round(TOKENS));
const med = (k: keyof Row): string => rows.map((r) => r[k]).sort((a, b) => a - b)[1]?.toFixed(2) ?? '-';
console.log(`token-append ${TOKENS} tokens x3: wall ${med('wallUs')} us/token, cpu ${med('cpuUs')} us/token, gc ${med('gcs')} per 10k tokens, gc ${med('gcMs')} ms per 10k tokens`);
