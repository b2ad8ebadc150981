import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dealer, Subscriber } from 'zeromq';
import { silentLogger } from '../../src/core/logger.js';
import { startFakeModelServer, type FakeModelServer, type Script } from '../../src/fake-models/index.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import type { TransportContext } from '../../src/server/transports.js';
import { startBus, type BusOptions, type RunningBus } from '../../src/transports/ipc/index.js';
import { fakeModelsConfig } from './harness.js';
import { freePortPair } from './ports.js';

export { freePortPair };

/**
 * Raw ZeroMQ clients that behave like Pando's Go client (go-zeromq/zmq4): a DEALER that sends
 * `[empty][json]` with `req-<unixnano>` ids and takes the next message as the answer, and a SUB that
 * reads one frame and splits it at the first NUL.
 */
export class GoDealer {
  readonly socket = new Dealer({ linger: 0, receiveTimeout: 10_000 });

  static async connect(endpoint: string): Promise<GoDealer> {
    const d = new GoDealer();
    d.socket.connect(endpoint);
    return d;
  }

  /** Sends one request as Pando does and returns the parsed answer of the next message. */
  async call(method: string, params: unknown = {}, id: string | number = `req-${process.hrtime.bigint()}`): Promise<Record<string, unknown>> {
    await this.send({ jsonrpc: '2.0', id, method, params });
    return this.next();
  }

  async send(request: unknown): Promise<void> {
    await this.socket.send([Buffer.alloc(0), JSON.stringify(request)]);
  }

  async sendFrames(frames: Array<Buffer | string>): Promise<void> {
    await this.socket.send(frames);
  }

  /** The next answer: the last frame, parsed. */
  async next(): Promise<Record<string, unknown>> {
    const frames = await this.socket.receive();
    return JSON.parse(frames.at(-1)!.toString('utf8')) as Record<string, unknown>;
  }

  /** The raw frames of the next message (to check the `[empty][json]` shape). */
  async nextFrames(): Promise<Buffer[]> {
    return this.socket.receive();
  }

  close(): void {
    this.socket.close();
  }
}

export interface Publication {
  topic: string;
  envelope: { instanceId: string; projectId: string; sessionId?: string; topic: string; timestamp: string; payload: Record<string, unknown> };
  raw: Buffer;
}

export class GoSub {
  readonly socket = new Subscriber({ linger: 0 });
  readonly received: Publication[] = [];
  readonly dropped: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private loop: Promise<void> | undefined;

  static connect(endpoint: string, prefix = ''): GoSub {
    const s = new GoSub();
    s.socket.connect(endpoint);
    s.socket.subscribe(prefix);
    s.loop = s.read();
    return s;
  }

  private async read(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const frame = frames[0]!;
        const nul = frame.indexOf(0);
        if (nul < 0 || frames.length !== 1) {
          this.dropped.push(frame);
          continue;
        }
        this.received.push({ topic: frame.subarray(0, nul).toString('utf8'), envelope: JSON.parse(frame.subarray(nul + 1).toString('utf8')), raw: frame });
        for (const w of this.waiters.splice(0)) w();
      }
    } catch {
      // closed
    }
  }

  of(topic: string): Publication[] {
    return this.received.filter((p) => p.topic === topic);
  }

  /** Resolves once `check` holds over what arrived; rejects after `timeoutMs`. */
  async until(check: (all: Publication[]) => boolean, timeoutMs = 10_000, what = 'publications'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.received.map((p) => p.topic).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.loop;
  }
}

/** Waits until a fresh SUB is attached (PUB drops what is sent before the subscription lands). */
export async function subscribed(sub: GoSub, bus: RunningBus): Promise<void> {
  const probe = `probe-${process.hrtime.bigint()}`;
  const deadline = Date.now() + 10_000;
  while (!sub.received.some((p) => p.envelope.payload.reason === probe)) {
    if (Date.now() > deadline) throw new Error('subscriber never attached');
    bus.publisher.publish('instance.shutdown', { instance_id: 'probe', reason: probe });
    await sub.until((all) => all.some((p) => p.envelope.payload.reason === probe), 50).catch(() => undefined);
  }
  sub.received.length = 0;
}

export const tempDir = (prefix: string): string => mkdtempSync(path.join(os.tmpdir(), `tower-${prefix}-`));

export interface BusTower {
  tower: Tower;
  bus: RunningBus;
  fake: FakeModelServer;
  registryDir: string;
  workDir: string;
  dataDir: string;
  rpc: string;
  pub: string;
  stop(): Promise<void>;
  restart(): Promise<BusTower>;
  close(): Promise<void>;
}

export interface BusTowerOptions {
  script?: Script;
  fake?: FakeModelServer;
  dataDir?: string;
  workDir?: string;
  registryDir?: string;
  port?: number;
  busPort?: number;
  /** Bind Pando's derived ports instead of a free pair. */
  derivedPorts?: boolean;
  bus?: BusOptions;
}

/** A real Tower (port 0, SQLite, fake model) with only the bus beside HTTP, registry in a temp dir. */
export async function startBusTower(opts: BusTowerOptions = {}): Promise<BusTower> {
  const fake = opts.fake ?? (await startFakeModelServer({ format: 'openai', script: opts.script ?? [] }));
  const dataDir = opts.dataDir ?? tempDir('bus-data');
  const workDir = opts.workDir ?? tempDir('bus-work');
  const registryDir = opts.registryDir ?? tempDir('bus-registry');
  const { config: models } = fakeModelsConfig(fake);
  const busPort = opts.busPort ?? (opts.derivedPorts ? undefined : await freePortPair());
  const config = resolveConfig(
    { host: '127.0.0.1', port: opts.port ?? 0, dataDir, workingDir: workDir, ...(busPort ? { busPort } : {}) },
    {},
  );
  let bus: RunningBus | undefined;
  const starter = async (ctx: TransportContext): Promise<RunningBus | undefined> => {
    bus = await startBus(ctx, { registryDir, ...opts.bus });
    return bus;
  };
  const tower = await startTower(config, { models, env: {}, logger: silentLogger, transports: [starter] });
  if (!bus) {
    await tower.close();
    throw new Error('bus did not start');
  }
  const running = bus;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await tower.close();
  };
  return {
    tower,
    bus: running,
    fake,
    registryDir,
    workDir,
    dataDir,
    rpc: `tcp://127.0.0.1:${running.rpcPort}`,
    pub: `tcp://127.0.0.1:${running.pubPort}`,
    stop,
    restart: async () => {
      await stop();
      return startBusTower({ ...opts, fake, dataDir, workDir, registryDir, port: tower.port, busPort: running.pubPort });
    },
    close: async () => {
      await stop();
      if (!opts.fake) await fake.close();
      for (const dir of [dataDir, workDir, registryDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
