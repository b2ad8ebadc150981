/** The one machine-readable line every benchmark ends with, and helpers for the readable summary. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline. For throughputs higher is better; for latencies and memory lower is better. */
  ratio: number;
  /** The goal, in words (e.g. "ratio >= 0.6"). */
  target: string;
  /** Whether the goal was met in this run. */
  met: boolean;
  p50_ms?: number;
  p99_ms?: number;
  /**
   * Longest event-loop delay of the process under test during the measurement (ms), from
   * `perf_hooks.monitorEventLoopDelay` there: how long any other session's timers and I/O could wait.
   */
  loop_max_ms?: number;
  /** Named figures of the run beyond the fields above (offered vs achieved rates, counts), each rounded. */
  figures?: Record<string, number>;
  notes?: string;
}

export function emitBench(result: BenchResult): void {
  const clean: BenchResult = {
    ...result,
    value: sig(result.value),
    baseline: sig(result.baseline),
    ratio: sig(result.ratio),
    ...(result.p50_ms !== undefined ? { p50_ms: sig(result.p50_ms) } : {}),
    ...(result.p99_ms !== undefined ? { p99_ms: sig(result.p99_ms) } : {}),
    ...(result.loop_max_ms !== undefined && Number.isFinite(result.loop_max_ms) ? { loop_max_ms: sig(result.loop_max_ms) } : {}),
    ...(result.figures ? { figures: Object.fromEntries(Object.entries(result.figures).map(([k, v]) => [k, sig(v)])) } : {}),
  };
  process.stdout.write(`BENCH ${JSON.stringify(clean)}\n`);
}

/** Rounds to `digits` significant digits (keeps integers above that as integers). */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  if (magnitude >= digits - 1) return Math.round(x);
  const f = Math.pow(10, digits - 1 - magnitude);
  return Math.round(x * f) / f;
}

/** 12345678 → "12.3M", 4321 → "4.32k". */
export function human(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e9) return `${sig(x / 1e9)}G`;
  if (a >= 1e6) return `${sig(x / 1e6)}M`;
  if (a >= 1e3) return `${sig(x / 1e3)}k`;
  return String(sig(x));
}

export const mb = (bytes: number): number => bytes / (1024 * 1024);
export const kb = (bytes: number): number => bytes / 1024;

/** Prints a heading and aligned key/value rows to stdout (the readable part of a benchmark's output). */
export function summary(title: string, rows: Array<[string, string | number]>): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`\n== ${title} ==`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${typeof v === 'number' ? sig(v) : v}`)];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Progress lines go to stderr so stdout stays summary + BENCH. */
export function progress(message: string): void {
  process.stderr.write(`  · ${message}\n`);
}
