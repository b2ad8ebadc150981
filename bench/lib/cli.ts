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
  // One directory per label, Node's default file names: tsx's loader thread writes a profile too, and a
  // fixed --cpu-prof-name would make the two overwrite each other. The main thread's is the big one.
  // `BENCH_CPU_PROF_INTERVAL=US`: the sampling interval (Node's default 1000 us); a coarser one costs less.
  const interval = process.env.BENCH_CPU_PROF_INTERVAL ? [`--cpu-prof-interval=${Number(process.env.BENCH_CPU_PROF_INTERVAL)}`] : [];
  return ['--cpu-prof', `--cpu-prof-dir=${profDir(label)}`, ...interval];
}

/** Where profiles of `label` go: `$BENCH_PROF_DIR/label` (default /tmp/tower-bench-prof/label). */
export const profDir = (label: string): string => path.join(process.env.BENCH_PROF_DIR ?? path.join(os.tmpdir(), 'tower-bench-prof'), label);
