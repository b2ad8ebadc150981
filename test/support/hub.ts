import WebSocket from 'ws';
import { afterEach } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import { hubTransport, type HubOptions, type RunningHub } from '../../src/transports/hub/index.js';
import { startFakeModelServer, type FakeModelServer, type Script } from '../../src/fake-models/index.js';
import { fakeModelsConfig, tempDir } from './harness.js';
import { rmSync } from 'node:fs';

export interface Frame {
  type: string;
  timestamp: number;
  data?: Record<string, unknown> & { code?: string };
}

/** A raw `ws` client that records every frame, so tests wait on frames, never on time. */
export class HubClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      for (const w of this.waiters.splice(0)) w();
      resolve({ code, reason: String(reason) });
    }));
  }

  static connect(url: string, opts: { headers?: Record<string, string>; query?: string } = {}): Promise<HubClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/hub/ws${opts.query ? `?${opts.query}` : ''}`, { headers: opts.headers ?? {} });
    const client = new HubClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(type: string, data?: unknown): void {
    this.ws.send(JSON.stringify({ type, timestamp: Date.now(), ...(data === undefined ? {} : { data }) }));
  }

  raw(payload: string | Buffer, binary = false): void {
    this.ws.send(payload, { binary });
  }

  /** Resolves with the first frame after index `from` matching `pred` (default: from the start). */
  async next(pred: (f: Frame) => boolean, from = 0, timeoutMs = 10_000): Promise<Frame> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.slice(from).find(pred);
      if (hit) return hit;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed while waiting; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      if (Date.now() > end) throw new Error(`timed out waiting for a frame; last: ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a command and waits for its reply. */
  async command(data: Record<string, unknown>): Promise<Frame> {
    const from = this.frames.length;
    this.send('command', data);
    return this.next((f) => f.type === 'reply' && f.data?.request_id === data.request_id, from);
  }

  close(): void {
    this.ws.close();
  }
}

export interface HubTower {
  tower: Tower;
  hub: RunningHub;
  fake: FakeModelServer;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A real Tower on port 0 with only the hub beside HTTP, with test timings. */
export async function startHubTower(opts: { token?: string; hub?: Partial<HubOptions>; script?: Script; policy?: 'autonomous' | 'balanced' } = {}): Promise<HubTower> {
  const fake = await startFakeModelServer({ format: 'openai', script: opts.script ?? [] });
  const dataDir = tempDir('hub-data');
  const workDir = tempDir('hub-work');
  const { config: models } = fakeModelsConfig(fake);
  const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir, workingDir: workDir, ...(opts.token ? { token: opts.token } : {}) }, {});
  if (opts.policy) config.permissions = { ...config.permissions, policy: opts.policy };
  let running: RunningHub | undefined;
  const starter = hubTransport(opts.hub ?? {});
  const tower = await startTower(config, {
    models,
    env: {},
    logger: silentLogger,
    transports: [async (ctx) => (running = await starter(ctx))],
  });
  if (!running) throw new Error('hub did not start');
  return {
    tower,
    hub: running,
    fake,
    url: tower.url,
    dataDir,
    close: async () => {
      await tower.close();
      await fake.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** The hub tests' setup: the test's tower and the clients it opened, closed after each test. */
export interface HubRig {
  /** Starts the test's tower; closed after the test, once its clients are. */
  start(opts?: Parameters<typeof startHubTower>[0]): Promise<HubTower>;
  /** A hub client on `tower`, closed after the test. */
  connect(tower: HubTower, opts?: Parameters<typeof HubClient.connect>[1]): Promise<HubClient>;
  /** A client the test connected itself, to close after the test; returned as given. */
  track(client: HubClient): HubClient;
}

/** Call at the top of a test file: registers the `afterEach` that closes the clients, then the tower. */
export function hubRig(): HubRig {
  let tower: HubTower | undefined;
  const clients: HubClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tower?.close();
    tower = undefined;
  });
  const track = (client: HubClient): HubClient => {
    clients.push(client);
    return client;
  };
  return {
    async start(opts) {
      tower = await startHubTower(opts);
      return tower;
    },
    connect: async (t, opts = {}) => track(await HubClient.connect(t.url, opts)),
    track,
  };
}
