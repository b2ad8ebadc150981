import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskOperation } from '../../protocol/runner.js';
import { OUTBOX_DIR } from './runner.js';
import { RECORD_LOADS, spawnRunner, TestControlPlane } from './testing/control-plane.js';

/**
 * A real `tower runner` child process against an in-test control plane (a real `ws` server playing
 * Tower's part). Synchronised on frames and files, never on sleeps.
 */

let cp: TestControlPlane;
let base: string;
let workspace: string;
let configFile: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  cp = await TestControlPlane.start();
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'tower-runner-')));
  workspace = path.join(base, 'ws');
  configFile = path.join(base, 'runner.json');
  // Fast reconnects and heartbeats keep the test short; the defaults are 1 s → 5 min and 30 s.
  await writeFile(configFile, JSON.stringify({ workspace, reconnect_min_ms: 100, reconnect_max_ms: 400, heartbeat_ms: 300, labels: ['gpu', 'linux'] }));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await cp.close();
  await rm(base, { recursive: true, force: true });
});

function startRunner(extraEnv: Record<string, string> = {}, nodeArgs: string[] = []) {
  const child = spawnRunner(['--url', cp.url, '--token', cp.token, '--config', configFile, '--name', 'loop'], extraEnv, nodeArgs);
  children.push(child);
  return child;
}

let taskCounter = 0;
function request(operation: TaskOperation, args: unknown): string {
  taskCounter += 1;
  const taskId = `task-${taskCounter}`;
  cp.send('task.request', { task_id: taskId, operation, args });
  return taskId;
}

const resultOf = (taskId: string) => cp.until(() => cp.results.get(taskId), `the result of ${taskId}`);
const outputOf = (taskId: string, text: string, from = 0) =>
  cp.waitFor((r) => r.message.type === 'task.output' && r.message.payload.task_id === taskId && r.message.payload.data.includes(text), `output "${text}" of ${taskId}`, from);

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const heartbeat = (n: number) => cp.until(() => cp.received.filter((r) => r.message.type === 'heartbeat')[n - 1], `heartbeat ${n}`);

describe('tower runner on loopback', () => {
  it('authenticates with Bearer and ?token=, sends EnvironmentInfo first, then metrics every heartbeat', async () => {
    startRunner();
    const first = await heartbeat(1);
    const second = await heartbeat(2);
    expect(cp.authSeen[0]).toEqual({ bearer: true, query: true });
    if (first.message.type !== 'heartbeat' || second.message.type !== 'heartbeat') throw new Error('not heartbeats');
    expect(first.message.payload).toMatchObject({ worknode_id: 'wn_1', name: 'test-runner', labels: ['test'], version: expect.any(String) });
    expect(first.message.payload.environment).toMatchObject({ os: 'linux', workspace_root: workspace, num_cpu: expect.any(Number), utc_offset: expect.stringMatching(/^[+-]\d\d:\d\d$/) });
    for (const hb of [first, second]) {
      if (hb.message.type !== 'heartbeat') continue;
      expect(hb.message.payload.metrics).toEqual({ cpu_percent: expect.any(Number), memory_percent: expect.any(Number), disk_percent: expect.any(Number) });
    }
    expect(second.message.payload.environment).toBeUndefined();
  });

  it('keeps retrying when its token is refused, and never logs the token', async () => {
    const wrong = spawnRunner(['--url', cp.url, '--token', 'wrong-token-zzz', '--config', configFile]);
    children.push(wrong);
    await cp.until(() => cp.authSeen.length >= 3 || undefined, 'three attempts');
    expect(cp.connections).toBe(0);
    expect(wrong.output()).toContain('reconnecting');
    expect(wrong.output()).not.toContain('wrong-token-zzz');
  });

  it('runs operations and streams bash output as task.output before the command ends', async () => {
    startRunner();
    await heartbeat(1);
    const write = request('write', { path: 'hello.txt', content: Buffer.from('hi').toString('base64') });
    expect(await resultOf(write)).toMatchObject({ success: true, result: { path: 'hello.txt', size: 2 } });
    const read = request('read', { path: 'hello.txt' });
    expect(await resultOf(read)).toMatchObject({ success: true, result: { content: Buffer.from('hi').toString('base64'), total_size: 2 } });
    const escape = request('read', { path: '../runner.json' });
    expect(await resultOf(escape)).toMatchObject({ success: false, error: expect.stringMatching(/outside the working directory/) });

    // The command cannot end until the test, having seen its first line, creates `go`.
    const bash = request('bash', { command: 'echo first; while [ ! -e go ]; do sleep 0.05; done; echo second' });
    await outputOf(bash, 'first');
    expect(cp.results.has(bash)).toBe(false);
    await writeFile(path.join(workspace, 'go'), '');
    expect(await resultOf(bash)).toMatchObject({ success: true, exit_code: 0, result: { stdout: 'first\nsecond\n', stderr: '', exit_code: 0 } });
    const frames = cp.received.filter((r) => (r.message.type === 'task.output' || r.message.type === 'task.result') && r.message.payload.task_id === bash);
    expect(frames.at(-1)?.message.type).toBe('task.result');
  });

  it('task.cancel mid-bash kills the whole process tree', async () => {
    // Unsandboxed, so the pids bash reports are this machine's (bubblewrap gives bash its own pid namespace).
    startRunner({ TOWER_RUNNER_SANDBOX: 'none' });
    await heartbeat(1);
    const task = request('bash', { command: 'echo $$ > pids.txt; sleep 100 & echo $! >> pids.txt; (sleep 100 & echo $! >> pids.txt; wait) & while [ $(wc -l < pids.txt) -lt 3 ]; do sleep 0.02; done; echo started; sleep 100' });
    await outputOf(task, 'started');
    const pids = (await readFile(path.join(workspace, 'pids.txt'), 'utf8')).split('\n').filter(Boolean).map(Number);
    expect(pids).toHaveLength(3);
    expect(pids.every(isAlive)).toBe(true);
    cp.send('task.cancel', { task_id: task });
    expect(await resultOf(task)).toMatchObject({ success: false, error: expect.stringMatching(/canceled/) });
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it("bash sees a clean environment: neither the runner's token nor a provider key", async () => {
    startRunner({ TOWER_RUNNER_TOKEN: cp.token, OPENAI_API_KEY: 'sk-runner-secret-123' });
    await heartbeat(1);
    const task = request('bash', { command: 'env; echo done' });
    const result = (await resultOf(task)) as { success: boolean; result: { stdout: string } };
    expect(result.success).toBe(true);
    expect(result.result.stdout).toContain('PATH=');
    expect(result.result.stdout).not.toContain('sk-runner-secret-123');
    expect(result.result.stdout).not.toContain(cp.token);
  });

  it('a runner killed with SIGKILL and restarted reconnects and serves again', async () => {
    const first = startRunner();
    await heartbeat(1);
    first.kill('SIGKILL');
    await once(first, 'exit');
    await cp.until(() => !cp.connected || undefined, 'the disconnect');
    startRunner();
    await cp.until(() => cp.received.find((r) => r.connection === 2 && r.message.type === 'heartbeat'), 'a heartbeat on the new connection');
    const task = request('bash', { command: 'echo again' });
    expect(await resultOf(task)).toMatchObject({ success: true, result: { stdout: 'again\n' } });
  });

  it('a task that finishes while disconnected delivers its result after reconnecting, exactly once', async () => {
    startRunner();
    await heartbeat(1);
    const task = request('bash', { command: 'echo started; while [ ! -e go ]; do sleep 0.05; done; echo finished' });
    await outputOf(task, 'started');
    cp.accepting = false;
    cp.dropConnection();
    await cp.until(() => cp.refusedConnections >= 1 || undefined, 'a refused reconnect attempt');
    await writeFile(path.join(workspace, 'go'), '');
    // Finished while disconnected: the result waits on disk.
    const outbox = path.join(workspace, OUTBOX_DIR);
    await waitForFile(outbox);
    expect(cp.results.has(task)).toBe(false);
    cp.accepting = true;
    const result = await resultOf(task);
    expect(result).toMatchObject({ success: true, result: { stdout: 'started\nfinished\n' } });
    // A later task's result proves the runner moved on; the first result came once after de-duplication.
    const next = request('bash', { command: 'true' });
    await resultOf(next);
    expect([...cp.results.keys()].filter((id) => id === task)).toHaveLength(1);
    const deliveries = cp.received.filter((r) => r.message.type === 'task.result' && r.message.payload.task_id === task);
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    expect(deliveries.every((d) => d.connection === 2)).toBe(true);
  });

  it('loads protocol/ and runner/ only: no core, store, AI SDK or HTTP server module', async () => {
    const log = path.join(base, 'loads.txt');
    startRunner({ TOWER_LOAD_LOG: log }, ['--import', RECORD_LOADS]);
    await heartbeat(1);
    const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    const src = loaded.filter((u) => u.includes('/src/'));
    expect(src.some((u) => u.includes('/src/runner/worker/runner.ts'))).toBe(true);
    expect(src.some((u) => u.includes('/src/runner/ops/'))).toBe(true);
    const forbidden = loaded.filter((u) => /\/src\/(core|store|transports|server|fake-models)\/|node_modules\/(ai|@ai-sdk\/[^/]+|hono|@hono\/[^/]+|better-sqlite3)\//.test(u));
    expect(forbidden).toEqual([]);
  });
});

async function waitForFile(dir: string): Promise<void> {
  const { watch } = await import('node:fs');
  const has = async () => (await readdir(dir).catch(() => [] as string[])).some((n) => n.endsWith('.json'));
  if (await has()) return;
  await new Promise<void>((resolve, reject) => {
    const watcher = watch(path.dirname(dir), { recursive: true }, () => {
      void has().then((yes) => {
        if (yes) {
          watcher.close();
          resolve();
        }
      });
    });
    watcher.on('error', reject);
    void has().then((yes) => {
      if (yes) {
        watcher.close();
        resolve();
      }
    });
  });
}
