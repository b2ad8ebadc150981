import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { RunnerGateway } from '../../transports/runners/gateway.js';
import { serveGateway } from '../../transports/runners/testing/gateway-server.js';
import { hashRunnerToken, staticTokenVerifier } from '../../transports/runners/tokens.js';
import { RUNNER_DEFAULTS, type RunnerConfig } from './config.js';
import { silentRunnerLogger } from './log.js';
import { startRunner } from './runner.js';

/** `tower runner` start-up and shutdown leave nothing behind: no listener per reconnect, no timer after stop. */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function config(url: string): Promise<RunnerConfig> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'tower-runner-life-'));
  cleanups.push(() => rm(workspace, { recursive: true, force: true }));
  return { ...RUNNER_DEFAULTS, url, token: 'trt_life', name: 'life', labels: [], workspace, allow: [], deny: [], allowPrivateNet: false, sandbox: 'none', network: false, toolEnv: [], heartbeatMs: 200, reconnectMinMs: 1, reconnectMaxMs: 2 };
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('tower runner lifecycle', () => {
  it('reconnecting many times adds no listener per attempt to the runner\'s stop signal', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    cleanups.push(() => void process.off('warning', onWarning));
    // A control plane that refuses every connection: the runner backs off and tries again, forever.
    let attempts = 0;
    let reached: (() => void) | undefined;
    const http = createServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (_req, socket) => {
      socket.on('error', () => undefined); // the runner may reset the socket it was refused on
      attempts += 1;
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      if (attempts >= 15) reached?.();
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const done = new Promise<void>((resolve) => (reached = resolve));
    const runner = await startRunner(await config(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/runners/ws`), silentRunnerLogger);
    await done;
    await runner.stop();
    // A warning is emitted on a later tick than the listener that crossed the limit.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });

  it('stopping a connected runner leaves no timer running', async () => {
    const entries = [{ hash: hashRunnerToken('trt_life'), record: { id: 'r-life', name: 'life', labels: [] }, revoked: false }];
    const gateway = new RunnerGateway({ verifyToken: staticTokenVerifier(entries), log: silentLogger, heartbeatMs: 1000 });
    const served = await serveGateway(gateway);
    cleanups.push(() => served.close(), () => gateway.close());
    const runner = await startRunner(await config(served.url), silentRunnerLogger);
    let online!: () => void;
    const connected = new Promise<void>((r) => (online = r));
    const off = gateway.onEvent((e) => e.type === 'runner_connected' && online());
    await connected;
    off();
    expect((await gateway.dispatch('r-life', 'bash', { command: 'echo hi' })).success).toBe(true);
    await runner.stop();
    // Nothing of the runner's is left; nor anything else that holds the event loop (this file runs alone).
    expect(timers()).toBe(0);
  });
});
