import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TowerClient, type TowerEvent } from '../../src/client/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { startFakeModelServer, type FakeModelServer, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';
import type { CreatedRunnerToken, RunnerView } from '../../src/protocol/runner-api.js';
import type { ToolExecutor } from '../../src/protocol/tools.js';
import { isTitleRequest } from '../../src/fake-models/script.js';
import { spawnRunner } from '../../src/runner/worker/testing/control-plane.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import { hubTransport } from '../../src/transports/hub/index.js';
import { runnersTransport, type RunningRunners } from '../../src/transports/runners/index.js';
import { fakeModelsConfig, tempDir } from './harness.js';
import { waitFor } from './wait.js';

/**
 * The fake model asks for the tool call the user message spells as JSON (`{"tool":..,"args":..}`), then
 * answers "Done." once it sees the result, so a test drives any tool call through a real turn.
 */
export function toolCallScript(request: ParsedRequest): ScriptResponse {
  if (isTitleRequest(request)) return { text: 'Runner test' };
  const last = request.messages.at(-1);
  if (last?.role === 'tool') return { text: 'Done.' };
  const wanted = JSON.parse(last?.role === 'user' ? last.text : '{}') as { tool: string; args: unknown };
  return { text: '', tool_calls: [{ name: wanted.tool, args: wanted.args }] };
}

export interface RunnerTower {
  tower: Tower;
  client: TowerClient;
  gateway: RunningRunners['gateway'];
  wsUrl: string;
  base: string;
  /** Creates a runner token through the API. */
  token(name: string, labels: string[]): Promise<CreatedRunnerToken>;
  api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Starts `tower runner` in a child process, fast heartbeats and reconnects, sandbox off (`extra`: more config-file keys). */
  runner(token: string, name: string, workspace: string, extra?: Record<string, unknown>): ChildProcess & { output(): string };
  /** Resolves once the runner is listed online. */
  online(id: string): Promise<RunnerView>;
  /** Sends a tool call through a turn and follows the session's events until the turn ends. */
  call(sessionId: string, tool: string, args: unknown, onEvent?: (e: TowerEvent) => void | Promise<void>): Promise<TowerEvent[]>;
  close(): Promise<void>;
}

export async function startRunnerTower(opts: { runnerWaitMs?: number; config?: Record<string, unknown>; executor?: ToolExecutor } = {}): Promise<RunnerTower> {
  const fake: FakeModelServer = await startFakeModelServer({ format: 'openai', script: toolCallScript });
  const base = tempDir('runners');
  const dataDir = path.join(base, 'data');
  const workDir = path.join(base, 'work');
  mkdirSync(workDir, { recursive: true });
  const { config: models } = fakeModelsConfig(fake);
  const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir, workingDir: workDir }, {});
  config.file = { ...config.file, ...opts.config };
  config.permissions = { ...config.permissions, policy: 'autonomous' };
  let running: RunningRunners | undefined;
  const runners = runnersTransport({ heartbeatMs: 300, heartbeatEventMs: 0, ...(opts.runnerWaitMs ? { runnerWaitMs: opts.runnerWaitMs } : {}) });
  const tower = await startTower(config, {
    models,
    env: {},
    logger: silentLogger,
    ...(opts.executor ? { executor: opts.executor } : {}),
    transports: [hubTransport(), async (ctx) => (running = await runners(ctx))],
  });
  if (!running) throw new Error('the runner gateway did not start');
  const gateway = running.gateway;
  const client = new TowerClient({ url: tower.url });
  const wsUrl = `${tower.url.replace('http', 'ws')}/runners/ws`;
  const children: ChildProcess[] = [];
  const api = async <T>(method: string, p: string, body?: unknown) => {
    const res = await fetch(`${tower.url}${p}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    tower,
    client,
    gateway,
    wsUrl,
    base,
    api,
    token: async (name, labels) => {
      const r = await api<CreatedRunnerToken>('POST', '/api/runners/tokens', { name, labels });
      if (r.status !== 201) throw new Error(`token creation answered ${r.status}`);
      return r.body;
    },
    runner: (token, name, workspace, extra = {}) => {
      mkdirSync(workspace, { recursive: true });
      const configFile = path.join(base, `${name}-${children.length}.json`);
      writeFileSync(configFile, JSON.stringify({ workspace, reconnect_min_ms: 50, reconnect_max_ms: 200, heartbeat_ms: 300, ...extra }));
      const child = spawnRunner(['--url', wsUrl, '--token', token, '--config', configFile, '--name', name], { TOWER_RUNNER_SANDBOX: 'none' });
      children.push(child);
      return child;
    },
    online: async (id) => {
      let found: RunnerView | undefined;
      await waitFor(async () => {
        const r = await api<RunnerView>('GET', `/api/runners/${id}`);
        found = r.status === 200 && r.body.status === 'online' && r.body.environment ? r.body : undefined;
        return found !== undefined;
      }, 30_000);
      if (!found) throw new Error('not online');
      return found;
    },
    call: async (sessionId, tool, args, onEvent) => {
      const events: TowerEvent[] = [];
      for await (const e of client.sendAndFollow(sessionId, JSON.stringify({ tool, args }))) {
        events.push(e);
        await onEvent?.(e);
      }
      return events;
    },
    close: async () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await once(child, 'exit');
        }
      }
      await tower.close();
      await fake.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * `tower runner` for a node at `towerUrl` (http), in a child process with its workspace and config file
 * under `base`: fast heartbeats and reconnects, sandbox off. What the cluster tests connect to one node.
 */
export function spawnNodeRunner(base: string, towerUrl: string, token: string, name: string): ChildProcess & { output(): string } {
  const workspace = path.join(base, 'ws');
  mkdirSync(workspace, { recursive: true });
  const configFile = path.join(base, 'runner.json');
  writeFileSync(configFile, JSON.stringify({ workspace, reconnect_min_ms: 50, reconnect_max_ms: 200, heartbeat_ms: 300 }));
  return spawnRunner(['--url', `${towerUrl.replace('http', 'ws')}/runners/ws`, '--token', token, '--config', configFile, '--name', name], { TOWER_RUNNER_SANDBOX: 'none' });
}

/** Kills a runner child (if still running) and waits for it to exit. */
export async function stopRunner(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}
