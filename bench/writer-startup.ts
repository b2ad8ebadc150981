/**
 * writer-startup: what starting the SQLite writer thread costs (process CPU, all threads, and wall) on
 * the first large commit, against the same commit once the thread runs. From source (tsx, as every
 * bench runs) the thread also compiles its modules with esbuild, which the build does not.
 *
 *   npx tsx bench/writer-startup.ts      (BENCH_ROUNDS, default 5: a new store per round)
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
const first: number[] = [];
const firstWall: number[] = [];
const warm: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-writer-startup-'));
  const store = new SqliteStore(path.join(dir, 'tower.db'));
  await store.createSession(testSessionRecord('s1'));
  let seq = 0;
  const batch = () => Array.from({ length: 300 }, () => testEntry('s1', seq++));
  for (const out of [first, warm, warm]) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await store.commit(batch());
    const cpu = process.cpuUsage(cpu0);
    out.push((cpu.user + cpu.system) / 1000);
    if (out === first) firstWall.push(performance.now() - t0);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
const cold = median(first);
const hot = median(warm);
emitBench({
  name: 'writer-startup',
  value: cold - hot,
  unit: 'ms CPU (first thread commit minus a warm one)',
  baseline: hot,
  ratio: cold / hot,
  target: 'report',
  met: true,
  notes: `first 300-entry thread commit: CPU ${sig(cold)} ms (rounds ${first.map(sig).join(', ')}), wall ${sig(median(firstWall))} ms; warm: CPU ${sig(hot)} ms; load ${os.loadavg()[0]?.toFixed(2)}`,
});
