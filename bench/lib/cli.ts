import path from 'node:path';
import os from 'node:os';

/** `--quick`: shorter runs (the whole suite in under 90 s). */
export const QUICK = process.argv.includes('--quick');

/** Picks the quick or the full value. */
export const pick = <T>(quick: T, full: T): T => (QUICK ? quick : full);

/**
 * `BENCH_CPU_PROF=1` profiles the process under test (the server child, or the benchmark process itself
 * for in-process benchmarks) with `node --cpu-prof`; profiles land in `$BENCH_PROF_DIR`
 * (default /tmp/tower-bench-prof), one directory per benchmark run. Summarize the largest file of one with
 * `npx tsx bench/prof.ts DIR_OR_FILE`.
 */
export function profArgs(label: string): string[] {
  if (!process.env.BENCH_CPU_PROF) return [];
  const dir = process.env.BENCH_PROF_DIR ?? path.join(os.tmpdir(), 'tower-bench-prof');
  // One directory per label, Node's default file names: tsx's loader thread writes a profile too, and a
  // fixed --cpu-prof-name would make the two overwrite each other. The main thread's is the big one.
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, label)}`];
}
