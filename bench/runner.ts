/**
 * runner: tool calls through a remote runner vs the local executor, in the same run. A real `tower runner`
 * child process connects over loopback to Tower's gateway (in this process, on a real HTTP server);
 * `RunnerToolExecutor` sends each call as a seed-004 `task.request` and maps the result back, as a
 * session's turn does. Calls are issued one after another, as the agent loop runs them.
 *
 * - read: N small `read` calls of a 1 KB file (the target: runner throughput >= 0.5 of local).
 * - bash: M `bash echo` calls (process spawn dominates both sides).
 * - read, 8 in flight: the same N reads with 8 calls outstanding on each side (information only; the
 *   target is the sequential figure).
 *
 * Local and runner calls alternate in 20 rounds; each side's figure is the median of its rounds. `loop_max_ms` is the longest event-loop delay of this
 * process (Tower's side: gateway and dispatch) while the runner rounds ran.
 */
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/core/logger.js';
import type { ToolExecutor } from '../src/protocol/tools.js';
import { createServerExecutor } from '../src/runner/index.js';
import { spawnRunner } from '../src/runner/worker/testing/control-plane.js';
import { routeUpgrade } from '../src/transports/upgrade.js';
import { RunnerGateway, RUNNERS_WS_PATH, RunnerToolExecutor, hashRunnerToken, staticTokenVerifier } from '../src/transports/runners/index.js';
import { pick, profArgs } from './lib/cli.js';
import { describeStalls, startLoopMonitor, type Stall } from './lib/loop-monitor.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';

const READS = pick(300, 1000);
const BASHES = pick(30, 100);
const ROUNDS = 20;
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const TOKEN = 'trt_bench_runner_token';

const base = mkdtempSync(path.join(os.tmpdir(), 'tower-bench-runner-'));
const local = path.join(base, 'local');
const remote = path.join(base, 'remote');
for (const dir of [local, remote]) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'small.txt'), `${'x'.repeat(63)}\n`.repeat(16));
}

const gateway = new RunnerGateway({
  verifyToken: staticTokenVerifier([{ hash: hashRunnerToken(TOKEN), record: { id: 'bench', name: 'bench', labels: [] } }]),
  log: silentLogger,
});
const http = createServer((_req, res) => res.writeHead(404).end());
routeUpgrade(http, RUNNERS_WS_PATH, (req, socket, head) => {
  gateway.handleUpgrade(req, socket, head);
});
http.listen(0, '127.0.0.1');
await once(http, 'listening');
const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}${RUNNERS_WS_PATH}`;
const child = spawnRunner(['--url', url, '--token', TOKEN, '--workspace', remote, '--name', 'bench'], { TOWER_RUNNER_SANDBOX: 'none', TOWER_LOG_LEVEL: 'warn' }, profArgs('runner-child'));
try {
  await new Promise<void>((resolve, reject) => {
    const off = gateway.onEvent((e) => {
      if (e.type === 'runner_connected') {
        off();
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`tower runner exited (${code}): ${child.output()}`)));
  });
  progress('runner connected');

  const localExec = createServerExecutor({ dataDir: path.join(base, 'data'), config: { sandbox: 'none' }, logger: silentLogger });
  const remoteExec = new RunnerToolExecutor({ gateway, local: localExec, labels: [], waitMs: 10_000, onNoRunner: () => undefined, logger: silentLogger });

  /** Seconds for `n` calls, one after another (`width` 1, the target's figure) or `width` in flight at once. */
  const time = async (exec: ToolExecutor, workingDir: string, n: number, name: string, args: unknown, width = 1): Promise<number> => {
    const signal = new AbortController().signal;
    const t0 = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        const r = await exec.execute({ id: `c${i}`, name, args }, { workingDir, signal, sandbox: 'none' });
        if (r.is_error) throw new Error(`${name} failed: ${r.output}`);
      }
    };
    await Promise.all(Array.from({ length: width }, lane));
    return (performance.now() - t0) / 1000;
  };
  /**
   * The same event-loop watch the server benchmarks run (bench/lib/loop-monitor.ts); it runs through the
   * local slices too, so its own CPU is charged to both sides, but only the runner slices' delay counts.
   */
  const loopDelay = startLoopMonitor();
  const loop = { maxMs: 0, stalls: [] as Array<[string, ...Stall]> };
  /** The local executor's slices, for information: the server runs local tools on this same loop. */
  const localLoop = { maxMs: 0, stalls: [] as Stall[] };
  /** CPU ms the runner child used so far (utime + stime of /proc/PID/stat, 100 ticks/s); 0 off Linux. */
  const childCpuMs = (): number => {
    const statFile = `/proc/${child.pid}/stat`;
    if (!existsSync(statFile)) return 0;
    const text = readFileSync(statFile, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  /**
   * Calls/s of local and runner in ROUNDS alternating slices (local, then runner). Each side's figure is the
   * median of its slices, so a stall from other jobs on this shared machine (seconds, at a load average of
   * 15 on 2 cores) costs one slice, not the run; the totals go into the notes. The loop-delay histogram
   * records the runner slices.
   */
  const compare = async (n: number, name: string, args: unknown, width = 1) => {
    const localRates: number[] = [];
    const remoteRates: number[] = [];
    let localSec = 0;
    let remoteSec = 0;
    const cpu = { local: 0, gateway: 0, runner: 0 };
    const slice = Math.ceil(n / ROUNDS);
    for (let done = 0; done < n; done += slice) {
      const count = Math.min(slice, n - done);
      const c0 = process.cpuUsage();
      loopDelay();
      const l = await time(localExec, local, count, name, args, width);
      const localDelay = loopDelay();
      localLoop.maxMs = Math.max(localLoop.maxMs, localDelay.maxMs);
      localLoop.stalls.push(...localDelay.stalls);
      const c1 = process.cpuUsage();
      const r0 = childCpuMs();
      const r = await time(remoteExec, remote, count, name, args, width);
      const delay = loopDelay();
      loop.maxMs = Math.max(loop.maxMs, delay.maxMs);
      loop.stalls.push(...delay.stalls.map((s): [string, ...Stall] => [`${name}x${width}`, ...s]));
      const c2 = process.cpuUsage(c1);
      cpu.runner += childCpuMs() - r0;
      cpu.local += (c1.user - c0.user + c1.system - c0.system) / 1000;
      cpu.gateway += (c2.user + c2.system) / 1000;
      localSec += l;
      remoteSec += r;
      localRates.push(count / l);
      remoteRates.push(count / r);
    }
    // CPU per call (us): wall time on this shared machine mostly measures the scheduler; CPU time does not.
    const per = (ms: number): number => (ms * 1000) / n;
    return {
      local: median(localRates), remote: median(remoteRates), localTotal: n / localSec, remoteTotal: n / remoteSec,
      cpuUs: { local: per(cpu.local), gateway: per(cpu.gateway), runner: per(cpu.runner) },
    };
  };

  // Warm both paths (JIT, first spawn) before measuring.
  await time(localExec, local, 20, 'read', { path: 'small.txt' });
  await time(remoteExec, remote, 20, 'read', { path: 'small.txt' });
  await time(localExec, local, 3, 'bash', { command: 'echo hi' });
  await time(remoteExec, remote, 3, 'bash', { command: 'echo hi' });
  const reads = await compare(READS, 'read', { path: 'small.txt' });
  const bashes = await compare(BASHES, 'bash', { command: 'echo hi' });
  // Additional information, not the target: the same reads with 8 calls in flight on each side.
  const wide = await compare(READS, 'read', { path: 'small.txt' }, 8);
  const { local: readLocal, remote: readRemote } = reads;
  const { local: bashLocal, remote: bashRemote } = bashes;
  const loopMaxMs = loop.maxMs;
  const stallText = describeStalls(loop.stalls.map(([, ...s]) => s));
  const stallList = loop.stalls.map(([phase, , late, cpu]) => `${phase} ${Math.round(late)} ms (CPU ${Math.round(cpu)})`).join(', ') || 'none';
  const ratio = readRemote / readLocal;

  summary(`runner (${READS} reads, ${BASHES} bash echo, one at a time, in ${ROUNDS} alternating rounds)`, [
    ['read: runner calls/s (median of rounds; overall)', `${human(readRemote)}; ${human(reads.remoteTotal)}`],
    ['read: local calls/s (median of rounds; overall)', `${human(readLocal)}; ${human(reads.localTotal)}`],
    ['read ratio', sig(ratio)],
    ['read CPU us/call: local; runner path (gateway side + runner process)', `${sig(reads.cpuUs.local)}; ${sig(reads.cpuUs.gateway + reads.cpuUs.runner)} (${sig(reads.cpuUs.gateway)} + ${sig(reads.cpuUs.runner)})`],
    ['read, 8 in flight: runner / local calls/s (medians)', `${human(wide.remote)} / ${human(wide.local)}`],
    ['read, 8 in flight: ratio', sig(wide.remote / wide.local)],
    ['bash echo: runner calls/s (median; overall)', `${human(bashRemote)}; ${human(bashes.remoteTotal)}`],
    ['bash echo: local calls/s (median; overall)', `${human(bashLocal)}; ${human(bashes.localTotal)}`],
    ['bash ratio', sig(bashRemote / bashLocal)],
    ['event loop max delay during runner phases (ms)', sig(loopMaxMs)],
    ['stalls > 40 ms during runner phases (late, this process\'s CPU meanwhile)', stallList],
    ['event loop max during local phases (ms), stalls', `${sig(localLoop.maxMs)}; ${describeStalls(localLoop.stalls)}`],
    ['load average (1 min)', sig(os.loadavg()[0]!)],
  ]);
  emitBench({ name: 'runner', value: readRemote, unit: 'reads/s', baseline: readLocal, ratio, target: 'ratio >= 0.5', met: ratio >= 0.5, loop_max_ms: loopMaxMs, notes:
      `medians of ${ROUNDS} alternating rounds; read overall ${sig(reads.remoteTotal)}/s vs ${sig(reads.localTotal)}/s (ratio ${sig(reads.remoteTotal / reads.localTotal)}); ` +
      `read CPU/call ${sig(reads.cpuUs.local)} us local vs ${sig(reads.cpuUs.gateway)} + ${sig(reads.cpuUs.runner)} us gateway + runner; ` +
      `8 in flight: read ${sig(wide.remote)}/s via runner vs ${sig(wide.local)}/s local (ratio ${sig(wide.remote / wide.local)}); ` +
      `bash echo ${sig(bashRemote)}/s via runner vs ${sig(bashLocal)}/s local (ratio ${sig(bashRemote / bashLocal)}; overall ${sig(bashes.remoteTotal / bashes.localTotal)}); ` +
      `runner slices: ${stallText}; local slices: loop max ${sig(localLoop.maxMs)} ms, ${describeStalls(localLoop.stalls)}; load avg ${sig(os.loadavg()[0]!)}` });
} finally {
  // A profiled runner must exit on its own to write its profile; otherwise there is nothing to wait for.
  if (process.env.BENCH_CPU_PROF && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  } else child.kill('SIGKILL');
  await gateway.close();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  rmSync(base, { recursive: true, force: true });
}
