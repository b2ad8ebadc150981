/**
 * The benchmark harness: `npm run bench` (all, < 5 min), `npm run bench -- --quick` (all, < 90 s),
 * `npm run bench -- NAME [NAME…]` (some). Each benchmark runs in its own process (so one cannot pollute
 * another's memory or JIT state), prints a readable summary and one `BENCH {json}` line; this collects the
 * lines, prints a table, and (after a full run of all of them, or with --write-results) rewrites the
 * figures block of bench/RESULTS.md. Exit code 0 even when targets are missed (they are goals); 1 when a
 * benchmark crashed, timed out or printed no BENCH line; 2 on bad arguments.
 *
 * BENCH_CPU_PROF=1 profiles each benchmark's server process (see bench/lib/cli.ts, bench/prof.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { profArgs } from './lib/cli.js';
import { ROOT } from './lib/proc.js';
import { human, sig, type BenchResult } from './lib/report.js';

const BENCHMARKS = ['append', 'fanout-sse', 'fanout-ws', 'replay', 'sessions', 'idle-memory', 'slow-consumer', 'bus', 'runner', 'cluster'] as const;
/** Run only when named (each too long for the all-run's 5 minutes): `npm run bench -- sessions-capacity`. */
const BY_NAME_ONLY = ['sessions-capacity'] as const;
type Name = (typeof BENCHMARKS)[number] | (typeof BY_NAME_ONLY)[number];
const NAMES: readonly Name[] = [...BENCHMARKS, ...BY_NAME_ONLY];

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--write-results] [${NAMES.join('|')} ...]\n`);
  process.exit(0);
}
const quick = argv.includes('--quick');
const forceWrite = argv.includes('--write-results');
const unknownFlags = argv.filter((a) => a.startsWith('-') && !['--quick', '--write-results'].includes(a));
const names = argv.filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !(NAMES as readonly string[]).includes(n));
if (unknown.length > 0 || unknownFlags.length > 0) {
  process.stderr.write(`unknown ${[...unknown, ...unknownFlags].join(', ')}; benchmarks: ${NAMES.join(', ')}\n`);
  process.exit(2);
}
const selected: Name[] = names.length > 0 ? NAMES.filter((b) => names.includes(b)) : [...BENCHMARKS];
/** Per-benchmark wall-clock limit: a benchmark that hangs is killed and reported as crashed. */
const LIMIT_MS = quick ? 120_000 : 240_000;
const TSX = import.meta.resolve('tsx');
/**
 * Benchmarks whose process under test is the benchmark process itself (Tower runs in it: append's
 * EventLog, runner's gateway, bus's startTower): BENCH_CPU_PROF=1 profiles that process.
 */
const IN_PROCESS: readonly Name[] = ['append', 'runner', 'bus'];

interface Outcome {
  name: Name;
  results: BenchResult[];
  ms: number;
  error?: string;
}

function runOne(name: Name): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const prof = IN_PROCESS.includes(name) ? profArgs(name) : [];
    const child = spawn(process.execPath, [...prof, '--import', TSX, path.join(ROOT, 'bench', `${name}.ts`), ...(quick ? ['--quick'] : [])], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const results: BenchResult[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, LIMIT_MS);
    createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      if (!line.startsWith('BENCH ')) return;
      try {
        results.push(JSON.parse(line.slice(6)) as BenchResult);
      } catch {
        process.stderr.write(`unparseable BENCH line from ${name}\n`);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - t0;
      let error: string | undefined;
      if (timedOut) error = `timed out after ${LIMIT_MS / 1000} s`;
      else if (code !== 0) error = `exited with ${code ?? signal}`;
      else if (results.length === 0) error = 'printed no BENCH line';
      resolve({ name, results, ms, ...(error ? { error } : {}) });
    });
  });
}

function machine(): Record<string, string> {
  let cpu = 'unknown';
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  return {
    nproc: String(os.availableParallelism()),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    cpu,
    kernel: `${os.type()} ${os.release()}`,
  };
}

const fmt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '' : Math.abs(x) >= 1000 ? human(x) : String(sig(x)));

function table(outcomes: Outcome[]): string {
  const rows = [
    '| name | value | unit | baseline | ratio | target | met? | p50 ms | p99 ms | loop max ms | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const o of outcomes) {
    if (o.error) rows.push(`| ${o.name} | | | | | | CRASHED | | | | ${o.error} |`);
    for (const r of o.results) {
      rows.push(
        `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.baseline)} | ${fmt(r.ratio)} | ${r.target} | ${r.met ? 'yes' : '**no**'} | ` +
          `${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${fmt(r.loop_max_ms)} | ${(r.notes ?? '').replace(/\|/g, '/')} |`,
      );
    }
  }
  return rows.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function writeResults(outcomes: Outcome[], startedAt: Date, totalMs: number, loads: [number, number]): void {
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  const m = machine();
  const block = [
    START,
    `Generated by \`${['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ')}\` on ${startedAt.toISOString()} ` +
      `(${Math.round(totalMs / 1000)} s in all).`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memory} RAM, Node ${m.node}, ${m.kernel}. ` +
      `Load average (1 min) ${sig(loads[0])} at start, ${sig(loads[1])} at the end (a shared machine: other jobs ran alongside).`,
    '',
    table(outcomes),
    END,
  ].join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmark results\n\n${START}\n${END}\n`;
  if (!text.includes(START) || !text.includes(END)) text = `${text.trimEnd()}\n\n${START}\n${END}\n`;
  text = text.slice(0, text.indexOf(START)) + block + text.slice(text.indexOf(END) + END.length);
  writeFileSync(file, text);
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), file)}\n`);
}

const startedAt = new Date();
const loadStart = os.loadavg()[0]!;
const outcomes: Outcome[] = [];
for (const name of selected) {
  process.stdout.write(`\n### ${name}${quick ? ' (quick)' : ''}\n`);
  const outcome = await runOne(name);
  if (outcome.error) process.stdout.write(`!! ${name}: ${outcome.error}\n`);
  process.stdout.write(`(${name}: ${Math.round(outcome.ms / 1000)} s)\n`);
  outcomes.push(outcome);
}
const totalMs = Date.now() - startedAt.getTime();
process.stdout.write(`\n## Summary (${quick ? 'quick, ' : ''}${Math.round(totalMs / 1000)} s)\n\n${table(outcomes)}\n`);
if (forceWrite || (!quick && selected.length === BENCHMARKS.length)) {
  writeResults(outcomes, startedAt, totalMs, [loadStart, os.loadavg()[0]!]);
}
process.exit(outcomes.some((o) => o.error) ? 1 : 0);
