/**
 * commit-stalls: how long one group commit holds the event loop, with SQLite's auto-checkpoint inside
 * the commits (`checkpointer: false`) vs the WAL checkpointer thread, both on the main connection, vs
 * the writer thread (the default: the commit on its own connection in a worker), at several batch
 * sizes. The loop block of a commit is the time the event loop's longest task took while it was in
 * flight (the whole commit when it runs on the loop; posting the batch, and the reply with the events
 * built from it, on the writer thread). `+ main write` variants also write one state row on the main
 * connection right after each commit is sent (what SessionQueues or messaging do beside the group
 * commit), which waits for the thread's write lock. 500 sessions, each batch one token-sized agent_choice per session in turn (as the sessions
 * bench's group commits hold), committed back to back through `SqliteStore.commit` (the group commit's
 * transaction), for a fixed number of events. Variants alternate round by round in this one process, on
 * fresh databases, so they share the machine's load; per variant it reports the median over rounds of
 * the p50 / p99 / max commit wall time, and us per event.
 *
 *   npx tsx bench/commit-stalls.ts            (BENCH_QUICK=1 or --quick for fewer events)
 *   BENCH_BATCHES=100,500,2000 npx tsx bench/commit-stalls.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { testSessionRecord } from '../src/store/testing/fixtures.js';
import type { CommitEntry, SessionRecord } from '../src/store/types.js';
import { pick } from './lib/cli.js';
import { Histogram, median } from './lib/hist.js';
import { emitBench, progress, sig, summary } from './lib/report.js';
import { benchSessionId } from './lib/ids.js';

const SESSIONS = 500;
const EVENTS = pick(100_000, 300_000);
const ROUNDS = pick(2, 3);
const BATCHES = (process.env.BENCH_BATCHES ?? '500,2000').split(',').map(Number);
const READS_PER_COMMIT = 20;
const TOKEN = { content: 'tok ', type: 'text' };

function record(i: number): SessionRecord {
  return testSessionRecord(benchSessionId(i));
}

interface Variant {
  name: string;
  checkpointer: boolean;
  thread: boolean;
  mainWrite: boolean;
  batch: number;
}

interface Round {
  /** Longest event-loop delay seen during the round (ms). */
  loopMax: number;
  /** Synchronous time of the main-connection state write after each commit was sent (p99, max ms). */
  writeP99: number;
  writeMax: number;
  p50: number;
  p99: number;
  max: number;
  usPerEvent: number;
  /** Process CPU (every thread: main, writer, checkpointer) per event, us. */
  cpuUsPerEvent: number;
  /** One-row reads on the writer's connection after each commit (does a checkpoint make readers wait?). */
  readP99: number;
  readMax: number;
  slowReads: number;
}

async function round(v: Variant): Promise<Round> {
  const { checkpointer, batch } = v;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-commit-stalls-'));
  const store = new SqliteStore(path.join(dir, 'tower.db'), {
    checkpointer: checkpointer ? { intervalMs: Number(process.env.BENCH_CKPT_MS ?? 200) } : false,
    busyTimeoutMs: Number(process.env.BENCH_BUSY_TIMEOUT_MS ?? 5000),
    writerThread: v.thread ? {} : false,
  });
  try {
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const r = record(i);
      await store.createSession(r);
      ids.push(r.id);
    }
    const hist = new Histogram();
    const reads = new Histogram();
    let max = 0;
    let readMax = 0;
    let slowReads = 0;
    const writes = new Histogram();
    let writeMax = 0;
    let next = 0;
    // A first commit starts the writer thread: not part of the measure.
    await store.commit(ids.slice(0, batch).map((id) => ({ session_id: id, type: 'agent_choice', data: TOKEN, timestamp: new Date().toISOString() })));
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    for (let done = 0; done < EVENTS; done += batch) {
      const entries: CommitEntry[] = [];
      for (let i = 0; i < batch; i++) {
        entries.push({ session_id: ids[next++ % SESSIONS] as string, type: 'agent_choice', data: TOKEN, timestamp: new Date().toISOString() });
      }
      const t0 = performance.now();
      const committed = store.commit(entries);
      if (v.mainWrite) {
        const w0 = performance.now();
        await store.setState(ids[0] as string, 'bench', String(done));
        const writeMs = performance.now() - w0;
        writes.record(writeMs);
        if (writeMs > writeMax) writeMax = writeMs;
      }
      await committed;
      const ms = performance.now() - t0;
      hist.record(ms);
      if (ms > max) max = ms;
      // A macrotask between commits, as the group commit's setImmediate gives: the checkpointer's
      // timer and replies run here.
      await new Promise((resolve) => setImmediate(resolve));
      for (let k = 0; k < READS_PER_COMMIT; k++) {
        const r0 = performance.now();
        await store.lastSeq(ids[k] as string);
        const readMs = performance.now() - r0;
        reads.record(readMs);
        if (readMs > readMax) readMax = readMs;
        if (readMs > 5) slowReads++;
      }
    }
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    loop.disable();
    return { loopMax: loop.max / 1e6, writeP99: writes.n > 0 ? writes.percentile(99) : 0, writeMax, p50: hist.percentile(50), p99: hist.percentile(99), max, usPerEvent: (elapsed * 1000) / EVENTS, cpuUsPerEvent: (cpu.user + cpu.system) / EVENTS, readP99: reads.percentile(99), readMax, slowReads };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const variants: Variant[] = BATCHES.flatMap((batch) => [
  { name: `auto-checkpoint, batch ${batch}`, checkpointer: false, thread: false, mainWrite: false, batch },
  { name: `checkpointer thread, batch ${batch}`, checkpointer: true, thread: false, mainWrite: false, batch },
  { name: `writer thread, batch ${batch}`, checkpointer: true, thread: true, mainWrite: false, batch },
  { name: `checkpointer thread + main write, batch ${batch}`, checkpointer: true, thread: false, mainWrite: true, batch },
  { name: `writer thread + main write, batch ${batch}`, checkpointer: true, thread: true, mainWrite: true, batch },
]).filter((v) => !process.env.BENCH_VARIANTS || process.env.BENCH_VARIANTS.split(',').some((w) => v.name.startsWith(`${w},`)));
const results = new Map<string, Round[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    progress(`commit-stalls: round ${r + 1}, ${v.name}`);
    results.get(v.name)?.push(await round(v));
  }
}
const rows: Array<[string, string]> = [];
const med = (name: string, pick: (r: Round) => number): number => median((results.get(name) ?? []).map(pick));
for (const v of variants) {
  const rs = results.get(v.name) ?? [];
  rows.push([
    `${v.name}: loop max ms; commit p50 / p99 / max ms, us/event, CPU us/event; read p99 / max ms, reads > 5 ms${v.mainWrite ? '; main write p99 / max ms' : ''}`,
    `${sig(med(v.name, (x) => x.loopMax))} (rounds: ${rs.map((x) => sig(x.loopMax)).join(', ')}); ${sig(med(v.name, (x) => x.p50))} / ${sig(med(v.name, (x) => x.p99))} / ${sig(med(v.name, (x) => x.max))} (rounds: ${rs.map((x) => sig(x.max)).join(', ')}), ${sig(med(v.name, (x) => x.usPerEvent))}, ${sig(med(v.name, (x) => x.cpuUsPerEvent))}; ${sig(med(v.name, (x) => x.readP99))} / ${sig(med(v.name, (x) => x.readMax))}, ${rs.map((x) => x.slowReads).join(' + ')}${v.mainWrite ? `; ${sig(med(v.name, (x) => x.writeP99))} / ${sig(med(v.name, (x) => x.writeMax))}` : ''}`,
  ]);
}
summary(`commit-stalls: ${SESSIONS} sessions, ${EVENTS} events per round, ${ROUNDS} rounds`, rows);
const last = BATCHES[BATCHES.length - 1] as number;
const off = med(`checkpointer thread, batch ${last}`, (x) => x.loopMax);
const on = med(`writer thread, batch ${last}`, (x) => x.loopMax);
emitBench({
  name: 'commit-stalls',
  value: on,
  unit: `ms (longest event-loop delay, batch ${last}, writer thread)`,
  baseline: off,
  ratio: on / off,
  target: 'loop max <= 20 ms',
  met: on <= 20,
  p50_ms: med(`writer thread, batch ${last}`, (x) => x.p50),
  p99_ms: med(`writer thread, batch ${last}`, (x) => x.p99),
  loop_max_ms: on,
  notes: rows.map(([k, v]) => `${k}: ${v}`).join('; '),
});
