import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TowerClient } from '../../src/client/index.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ModelsConfigInput } from '../../src/core/models/index.js';
import { startFakeModelServer, type FakeFormat, type FakeModelServer, type Script } from '../../src/fake-models/index.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import type { TransportStarter } from '../../src/server/transports.js';
import type { Store } from '../../src/store/types.js';
import { freePortPair } from './ports.js';

export const tempDir = (prefix: string): string => mkdtempSync(path.join(os.tmpdir(), `tower-${prefix}-`));

export interface TestTower {
  tower: Tower;
  fake: FakeModelServer;
  client: TowerClient;
  url: string;
  token: string | undefined;
  dataDir: string;
  workDir: string;
  model: string;
  store(): Store;
  /** Stops Tower (keeps the data dir, so a test can start again on it). */
  stop(): Promise<void>;
  /** Stops, then starts Tower again on the same data dir, port and fake model server. */
  restart(): Promise<TestTower>;
  close(): Promise<void>;
}

export interface TestTowerOptions {
  format?: FakeFormat;
  script?: Script;
  fake?: FakeModelServer;
  dataDir?: string;
  workDir?: string;
  token?: string;
  pingMs?: number;
  port?: number;
  /** Config-file `sandbox` (default: the server's, `auto`). */
  sandbox?: 'auto' | 'bwrap' | 'none';
  /** More config-file keys (e.g. `mcp`). */
  config?: Record<string, unknown>;
  /** Models listed beside the fake provider's default (ids `fake/...`), e.g. for a model switcher. */
  models?: string[];
  /** Transports beside HTTP (default: the server's list); `[]` runs HTTP alone (no hub). */
  transports?: readonly TransportStarter[];
}

export function fakeModelsConfig(fake: FakeModelServer): { config: ModelsConfigInput; model: string } {
  if (fake.format === 'anthropic') {
    return {
      config: { providers: { fake: { type: 'anthropic', base_url: fake.url, api_key: 'test-key' } }, default_model: 'fake/claude-test' },
      model: 'fake/claude-test',
    };
  }
  return {
    config: { providers: { fake: { type: 'openai-compatible', base_url: fake.url } }, default_model: 'fake/gpt-test' },
    model: 'fake/gpt-test',
  };
}

/** A real Tower on a real port (0), a real SQLite file, and a scripted fake model server over HTTP. */
export async function startTestTower(opts: TestTowerOptions = {}): Promise<TestTower> {
  const fake = opts.fake ?? (await startFakeModelServer({ format: opts.format ?? 'openai', script: opts.script ?? [] }));
  const dataDir = opts.dataDir ?? tempDir('data');
  const workDir = opts.workDir ?? tempDir('work');
  const { config: base, model } = fakeModelsConfig(fake);
  const models = opts.models ? { ...base, models: [model, ...opts.models].map((id) => ({ id })) } : base;
  const config = resolveConfig(
    // The bus on free ports, not the derived ones (see freePortPair): a taken port would make /ready 503.
    { host: '127.0.0.1', port: opts.port ?? 0, dataDir, workingDir: workDir, busPort: await freePortPair(), ...(opts.token ? { token: opts.token } : {}) },
    {},
  );
  if (opts.sandbox) config.file = { ...config.file, sandbox: opts.sandbox };
  if (opts.config) config.file = { ...config.file, ...opts.config };
  const tower = await startTower(config, { models, env: {}, logger: silentLogger, ...(opts.pingMs ? { pingMs: opts.pingMs } : {}), ...(opts.transports ? { transports: opts.transports } : {}) });
  const client = new TowerClient({ url: tower.url, ...(opts.token ? { token: opts.token } : {}) });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await tower.close();
  };
  return {
    tower,
    fake,
    client,
    url: tower.url,
    token: opts.token,
    dataDir,
    workDir,
    model,
    store: () => tower.store,
    stop,
    restart: async () => {
      await stop();
      // Let the client side see the old server's sockets close before anything reuses the pool.
      await new Promise((r) => setTimeout(r, 50));
      return startTestTower({ ...opts, fake, dataDir, workDir, port: tower.port });
    },
    close: async () => {
      await stop();
      await fake.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
