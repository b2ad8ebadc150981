/**
 * How long starting a tool command holds the event loop, in a process with a server-sized heap.
 * `npx tsx bench/spawn.ts` (env: SPAWN_HEAP_MB, default 400; SPAWN_RUNS, default 40; SPAWN_EXTRA_PROCS, default 0).
 *
 * - `spawn`: the synchronous part of `child_process.spawn('bash', ['-c', 'true'])`. libuv forks in the
 *   calling thread, and fork copies the page tables of the whole heap, so this grows with the heap.
 * - `findTree`: one /proc scan of `runner/executor/process-group.ts`, and the longest loop stall seen
 *   while it runs (a 1 ms timer measures the gaps), next to the same timer's worst gap over an idle
 *   stretch (GC, timer slack).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TreeId } from '../src/runner/executor/process-group.js';

/** SPAWN_PROCESS_GROUP=<path of another checkout's process-group.ts> for an A/B in one process layout. */
const { findTree } = (await import(process.env.SPAWN_PROCESS_GROUP ?? '../src/runner/executor/process-group.js')) as {
  findTree: (id: TreeId) => Promise<number[]>;
};

const HEAP_MB = Number(process.env.SPAWN_HEAP_MB ?? 400);
/** Extra idle processes (`sleep`) for the scans to walk past, as on a busy host. */
const EXTRA_PROCS = Number(process.env.SPAWN_EXTRA_PROCS ?? 0);
const RUNS = Number(process.env.SPAWN_RUNS ?? 40);

// A heap of many small objects, like a server's, not one big buffer (which fork copies cheaply).
const ballast: string[][] = [];
for (let mb = 0; mb < HEAP_MB; mb += 1) {
  const chunk: string[] = [];
  for (let i = 0; i < 10_000; i += 1) chunk.push(`${mb}:${i}:${'x'.repeat(60)}`);
  ballast.push(chunk);
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return `p50 ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`;
}

async function measureSpawn(): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', 'true'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    out.push(performance.now() - t0);
    await new Promise((resolve) => child.once('close', resolve));
  }
  return out;
}

/** The longest gap a 1 ms timer sees from now until `stop()`. */
function watchStalls(): { stop(): number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(worst, performance.now() - last);
    },
  };
}

/** The same timer over an idle stretch as long as a scan: what GC and the timer itself cost. */
async function measureIdle(ms: number): Promise<number[]> {
  const stall: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const watch = watchStalls();
    await new Promise((resolve) => setTimeout(resolve, ms));
    stall.push(watch.stop());
  }
  return stall;
}

async function measureFindTree(): Promise<{ took: number[]; stall: number[] }> {
  const took: number[] = [];
  const stall: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const watch = watchStalls();
    const t0 = performance.now();
    await findTree({ pgid: 0, startTicks: 0, marker: randomUUID() });
    took.push(performance.now() - t0);
    stall.push(watch.stop());
  }
  return { took, stall };
}

const sleepers = Array.from({ length: EXTRA_PROCS }, () => spawn('sleep', ['600'], { stdio: 'ignore' }));
const rssMb = Math.round(process.memoryUsage().rss / 1e6);
const spawnMs = await measureSpawn();
const tree = await measureFindTree();
const idle = await measureIdle(12);
process.stdout.write(`heap ballast ${HEAP_MB} MB (rss ${rssMb} MB), ${EXTRA_PROCS} extra processes, ${RUNS} runs\n`);
process.stdout.write(`spawn (sync part):   ${stats(spawnMs)}\n`);
process.stdout.write(`findTree (total):    ${stats(tree.took)}\n`);
process.stdout.write(`findTree loop stall: ${stats(tree.stall)}\n`);
process.stdout.write(`idle 12 ms stall:    ${stats(idle)}\n`);
process.stdout.write(`BENCH ${JSON.stringify({ name: 'spawn', heap_mb: HEAP_MB, rss_mb: rssMb, spawn_ms: spawnMs, find_tree_ms: tree.took, find_tree_stall_ms: tree.stall, idle_stall_ms: idle, keep: ballast.length })}\n`);
for (const c of sleepers) c.kill('SIGKILL');
process.exit(0);
