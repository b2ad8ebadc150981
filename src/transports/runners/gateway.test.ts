import { getEventListeners, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from '../../core/logger.js';
import { makeMessage, parseFrame, RUNNER_MAX_FRAME_BYTES, type RunnerMessage } from '../../protocol/runner.js';
import { silentRunnerLogger } from '../../runner/worker/log.js';
import { startRunner, type RunnerHandle } from '../../runner/worker/runner.js';
import { RUNNER_DEFAULTS, type RunnerConfig } from '../../runner/worker/config.js';
import { RunnerGateway } from './gateway.js';
import { serveGateway } from './testing/gateway-server.js';
import { hashRunnerToken, staticTokenVerifier } from './tokens.js';

const TOKENS = [
  { token: 'trt_good', record: { id: 'r-good', name: 'good', labels: ['linux'] } },
  { token: 'trt_junk', record: { id: 'r-junk', name: 'junk', labels: [] } },
];

let http: Awaited<ReturnType<typeof serveGateway>>;
let gateway: RunnerGateway;
let url: string;
let workspace: string;
const runners: RunnerHandle[] = [];
const entries = TOKENS.map((t) => ({ hash: hashRunnerToken(t.token), record: t.record, revoked: false }));

beforeEach(async () => {
  for (const e of entries) e.revoked = false;
  gateway = new RunnerGateway({ verifyToken: staticTokenVerifier(entries), log: silentLogger, heartbeatMs: 1000, runnerWaitMs: 5000 });
  http = await serveGateway(gateway);
  url = http.url;
  workspace = await mkdtemp(path.join(tmpdir(), 'tower-gw-'));
});

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
  await gateway.close();
  await http.close();
  await rm(workspace, { recursive: true, force: true });
});

function runnerConfig(token = 'trt_good'): RunnerConfig {
  return { ...RUNNER_DEFAULTS, url, token, name: 'local', labels: [], workspace, allow: [], deny: [], allowPrivateNet: false, sandbox: 'none', network: false, toolEnv: [], heartbeatMs: 200, reconnectMinMs: 50, reconnectMaxMs: 200 };
}

async function until<T>(probe: () => T | null | undefined | false, what: string): Promise<T> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function realRunner(): Promise<void> {
  runners.push(await startRunner(runnerConfig(), silentRunnerLogger));
  await until(() => gateway.registry.get('r-good')?.environment, 'the first heartbeat');
}

/** A hand-driven runner connection for sending junk. */
async function rawClient(token: string): Promise<{ ws: WebSocket; frames: RunnerMessage[] }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const frames: RunnerMessage[] = [];
  ws.on('message', (d) => {
    const p = parseFrame(d as Buffer);
    if (p.ok) frames.push(p.message);
  });
  await once(ws, 'open');
  return { ws, frames };
}

describe('runner gateway', () => {
  it('welcomes a runner, tracks it online with its environment, and runs a task with live output', async () => {
    await realRunner();
    const info = gateway.registry.get('r-good');
    expect(info).toMatchObject({ name: 'good', labels: ['linux'], status: 'online', environment: { workspace_root: expect.any(String) }, metrics: { cpu_percent: expect.any(Number) } });
    expect(gateway.registry.candidates(['linux']).map((r) => r.id)).toEqual(['r-good']);
    expect(gateway.registry.candidates(['gpu'])).toEqual([]);
    const output: string[] = [];
    const result = await gateway.dispatch('r-good', 'bash', { command: 'echo hi; echo err >&2' }, { onOutput: (s, d) => output.push(`${s}:${d}`) });
    expect(result).toMatchObject({ success: true, exit_code: 0, result: { stdout: 'hi\n', stderr: 'err\n' } });
    expect(output.sort()).toEqual(['stderr:err\n', 'stdout:hi\n']);
  });

  it('a signal shared by many tasks keeps no listener per finished task', async () => {
    await realRunner();
    const ac = new AbortController();
    for (let i = 0; i < 15; i++) await gateway.dispatch('r-good', 'bash', { command: 'true' }, { signal: ac.signal });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('refuses a bad token and closes a revoked token\'s live connection', async () => {
    const bad = new WebSocket(url, { headers: { authorization: 'Bearer nope' } });
    const [err] = (await once(bad, 'error')) as [Error];
    expect(err.message).toMatch(/401/);
    const query = new WebSocket(`${url}?token=trt_junk`);
    await once(query, 'open');
    query.terminate();
    await realRunner();
    const goodEntry = entries.find((e) => e.record.id === 'r-good');
    if (goodEntry) goodEntry.revoked = true;
    gateway.disconnectToken('r-good');
    await until(() => gateway.registry.get('r-good')?.status === 'offline', 'offline');
    await expect(gateway.dispatch('r-good', 'read', { path: 'x' })).rejects.toThrow(/not connected/);
  });

  it('answers junk with error frames, refuses results for tasks never given, and the real runner keeps working', async () => {
    await realRunner();
    const junk = await rawClient('trt_junk');
    const errorsBefore = () => junk.frames.filter((f) => f.type === 'error').length;
    junk.ws.send('not json');
    junk.ws.send(JSON.stringify({ id: 'x', type: 'task.explode', payload: {}, timestamp: 1 }));
    junk.ws.send(JSON.stringify(makeMessage('task.result', { task_id: 'never-given', success: true }, 'm1')));
    junk.ws.send(JSON.stringify(makeMessage('task.output', { task_id: 'never-given', stream: 'stdout', data: 'x' }, 'm2')));
    junk.ws.send('x'.repeat(RUNNER_MAX_FRAME_BYTES + 10));
    await until(() => errorsBefore() >= 5, 'five error frames');
    const codes = junk.frames.filter((f) => f.type === 'error').map((f) => (f.type === 'error' ? f.payload.code : ''));
    expect(codes).toEqual(['invalid_json', 'unknown_type', 'unknown_task', 'unknown_task', 'frame_too_large']);
    // A task given to the real runner cannot be answered by the junk one.
    const running = gateway.dispatch('r-good', 'bash', { command: 'echo fine' }, { taskId: 'shared-id' });
    junk.ws.send(JSON.stringify(makeMessage('task.result', { task_id: 'shared-id', success: false, error: 'hijack' }, 'm3')));
    expect(await running).toMatchObject({ success: true, result: { stdout: 'fine\n' } });
    junk.ws.terminate();
  });

  it('a runner that drops mid-task gets the task again after reconnecting, and it resolves once', async () => {
    await realRunner();
    const firstConnect = gateway.registry.get('r-good')?.connected_at;
    const done = gateway.dispatch('r-good', 'bash', { command: 'echo started; while [ ! -e go ]; do sleep 0.05; done; echo finished' }, {
      taskId: 'drop-1',
      onOutput: (_s, d) => {
        if (d.includes('started')) {
          // Cut the link from Tower's side, then let the command finish while the runner is away.
          for (const client of (gateway as unknown as { wss: { clients: Set<WebSocket> } }).wss.clients) client.terminate();
          void writeFile(path.join(workspace, 'go'), '');
        }
      },
    });
    expect(await done).toMatchObject({ success: true, result: { stdout: 'started\nfinished\n' } });
    expect(gateway.registry.get('r-good')?.connected_at).not.toBe(firstConnect);
    await until(() => gateway.registry.get('r-good')?.status === 'online', 'back online');
    expect((await gateway.dispatch('r-good', 'bash', { command: 'echo next' })).result).toMatchObject({ stdout: 'next\n' });
  });

  it("revoking a runner's token fails its running tasks at once", async () => {
    await realRunner();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const done = gateway.dispatch('r-good', 'bash', { command: 'echo started; while [ ! -e go ]; do sleep 0.05; done' }, { onOutput: (_s, d) => d.includes('started') && started() });
    await running;
    const entry = entries.find((e) => e.record.id === 'r-good');
    if (entry) entry.revoked = true;
    expect(gateway.disconnectToken('r-good')).toBe(1);
    expect(await done).toMatchObject({ success: false, error: expect.stringMatching(/revoked/) });
    await writeFile(path.join(workspace, 'go'), '');
  });

  it('a task canceled while its runner is away ends at once, and the cancel reaches the runner when it is back', async () => {
    await realRunner();
    const ac = new AbortController();
    const done = gateway.dispatch('r-good', 'bash', { command: 'echo $$ > pid.txt; echo started; sleep 100' }, {
      signal: ac.signal,
      onOutput: (_s, d) => {
        if (!d.includes('started')) return;
        for (const client of (gateway as unknown as { wss: { clients: Set<WebSocket> } }).wss.clients) client.terminate();
        ac.abort();
      },
    });
    expect(await done).toMatchObject({ success: false, error: expect.stringMatching(/canceled/) });
    const pid = Number((await readFile(path.join(workspace, 'pid.txt'), 'utf8')).trim());
    await until(() => !alive(pid), 'the canceled command to be killed after the reconnect');
    expect(gateway.registry.get('r-good')?.running_tasks).toBe(0);
  });
});

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
