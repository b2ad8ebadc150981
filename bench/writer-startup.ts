/**
 * writer-startup: what starting the SQLite writer thread costs (process CPU, all threads, and wall) on
 * the first large commit, against the same commit once the thread runs. From source (tsx, as every
 * bench runs) the thread also compiles its modules with esbuild, which the build does not.
 *
 * - cold: `prestart: false`, so the first 300-entry commit starts the thread (the start-up's cost);
 * - prestarted (`prestart: 'open'`): the store starts its thread at open; the first commit is sent once
 *   the thread is up (a store opened at server start-up), and, separately, right after open (a batch
 *   that comes before the thread is up waits for the rest of its start-up);
 * - after the first commit (`prestart: 'commit'`, the default): a 1-entry commit starts the thread; the
 *   300-entry commit is sent once it is up;
 * - idle: what a store that never commits costs (open, create a session, 300 ms, close; process CPU),
 *   with the thread started at open and with the default.
 *
 *   npx tsx bench/writer-startup.ts      (BENCH_ROUNDS, default 5: a new store per round and variant)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { testEntry, testSessionRecord } from '../src/store/testing/fixtures.js';
import { median } from './lib/hist.js';
import { emitBench, sig } from './lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Round {
  firstCpu: number;
  firstWall: number;
  warmCpu: number[];
}

/** One store: its first 300-entry commit (CPU of the whole process, wall), then two warm ones. */
type Prestart = 'open' | 'commit' | false;

async function round(prestart: Prestart, waitForThread: boolean): Promise<Round> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-writer-startup-'));
  const store = new SqliteStore(path.join(dir, 'tower.db'), { writerThread: { prestart } });
  try {
    await store.createSession(testSessionRecord('s1'));
    let seq = 0;
    if (prestart === 'commit') await store.commit([testEntry('s1', seq++)]);
    if (waitForThread) await store.writerThread?.ready();
    const batch = () => Array.from({ length: 300 }, () => testEntry('s1', seq++));
    const out: Round = { firstCpu: 0, firstWall: 0, warmCpu: [] };
    for (let i = 0; i < 3; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await store.commit(batch());
      const cpu = process.cpuUsage(cpu0);
      const ms = (cpu.user + cpu.system) / 1000;
      if (i === 0) {
        out.firstCpu = ms;
        out.firstWall = performance.now() - t0;
      } else out.warmCpu.push(ms);
    }
    return out;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Process CPU (ms) of a store that opens, creates a session, idles 300 ms and closes. */
async function idle(prestart: Prestart): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-writer-startup-'));
  const cpu0 = process.cpuUsage();
  const store = new SqliteStore(path.join(dir, 'tower.db'), { writerThread: { prestart } });
  try {
    await store.createSession(testSessionRecord('s1'));
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

const cold: Round[] = [];
const ready: Round[] = [];
const early: Round[] = [];
const afterCommit: Round[] = [];
const idleOpen: number[] = [];
const idleLazy: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  cold.push(await round(false, false));
  ready.push(await round('open', true));
  early.push(await round('open', false));
  afterCommit.push(await round('commit', true));
  idleOpen.push(await idle('open'));
  idleLazy.push(await idle('commit'));
}
const coldCpu = median(cold.map((r) => r.firstCpu));
const hot = median(cold.flatMap((r) => r.warmCpu));
const wall = (rs: Round[]) => sig(median(rs.map((r) => r.firstWall)));
emitBench({
  name: 'writer-startup',
  value: coldCpu - hot,
  unit: 'ms CPU (first thread commit minus a warm one)',
  baseline: hot,
  ratio: coldCpu / hot,
  target: 'report',
  met: true,
  notes:
    `cold (prestart off): first 300-entry thread commit CPU ${sig(coldCpu)} ms (rounds ${cold.map((r) => sig(r.firstCpu)).join(', ')}), ` +
    `wall ${wall(cold)} ms; warm: CPU ${sig(hot)} ms; prestarted, thread up: first commit wall ${wall(ready)} ms ` +
    `(CPU ${sig(median(ready.map((r) => r.firstCpu)))}); prestarted, sent right after open: wall ${wall(early)} ms; ` +
    `after a first 1-entry commit (default), thread up: wall ${wall(afterCommit)} ms (CPU ${sig(median(afterCommit.map((r) => r.firstCpu)))}); ` +
    `idle store (open, 300 ms, close) CPU: thread at open ${sig(median(idleOpen))} ms, default ${sig(median(idleLazy))} ms; load ${os.loadavg()[0]?.toFixed(2)}`,
});
