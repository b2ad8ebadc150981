import { rmSync } from 'node:fs';
import { isTitleRequest, lastUserText, startFakeModelServer, type ScriptFunction } from '../../src/fake-models/index.js';
import type { FakeModelServer } from '../../src/fake-models/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import type { TransportStarter } from '../../src/server/transports.js';
import { TEST_REDIS_URL } from '../../src/bus/test-redis.js';
import { TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { hubTransport } from '../../src/transports/hub/index.js';
import { runnersTransport } from '../../src/transports/runners/index.js';
import { fakeModelsConfig, tempDir } from './harness.js';
import { spawnTower, type TowerProcess } from './process.js';

/** Short ownership timings for tests (production defaults: ttl 15 s, renew 5 s, poll 2 s). */
export const FAST_LEASES = {
  TOWER_LEASE_TTL_MS: '4000',
  TOWER_LEASE_RENEW_MS: '1000',
  TOWER_TAKEOVER_POLL_MS: '250',
};

/**
 * The model of the cluster tests: a message containing "slow" gets a long answer streamed at 20
 * chunks a second (a turn that stays live for `slowSeconds`), "run a tool" a bash call (which asks for a
 * confirmation under the default policy), anything else a short answer naming it.
 * Title requests get the automatic title.
 */
export function clusterScript(slowSeconds = 20): ScriptFunction {
  return (request) => {
    if (isTitleRequest(request)) return undefined;
    if (request.messages.at(-1)?.role === 'tool') return { text: 'the tool ran' };
    const last = lastUserText(request);
    if (last.includes('run a tool')) return { text: 'running', tool_calls: [{ name: 'bash', args: { command: 'echo from-the-tool' } }] };
    if (last.includes('slow')) return { text: Array.from({ length: slowSeconds * 20 }, (_, i) => `w${i} `), tokensPerSecond: 20 };
    return { text: `done: ${last}` };
  };
}

/** Tower nodes in this process on one Postgres schema and one Redis, each with its own data dir. */
export async function startNodes(
  count: number,
  opts: {
    storeUrl: string;
    busUrl: string;
    fake: FakeModelServer;
    env?: Record<string, string>;
    /** Transports of node `i` beside HTTP (default none). */
    transports?: (i: number) => TransportStarter[];
    /** Tools run without asking (the `autonomous` policy). */
    autonomous?: boolean;
  },
): Promise<{ nodes: Tower[]; close(): Promise<void> }> {
  const nodes: Tower[] = [];
  const dirs: string[] = [];
  const { config: models } = fakeModelsConfig(opts.fake);
  const close = async (): Promise<void> => {
    for (const t of nodes.reverse()) await t.close().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const dir = tempDir(`node${i}`);
      dirs.push(dir);
      const config = resolveConfig(
        { host: '127.0.0.1', port: 0, dataDir: dir, workingDir: dir, store: opts.storeUrl, busUrl: opts.busUrl },
        {},
      );
      if (opts.autonomous) config.permissions = { ...config.permissions, policy: 'autonomous' };
      nodes.push(await startTower(config, { models, env: { ...FAST_LEASES, ...opts.env }, logger: silentLogger, transports: opts.transports?.(i) ?? [] }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, close };
}

/**
 * Two nodes on a fresh Postgres schema and one Redis, each with the runner gateway and the hub, runner
 * presence and heartbeats fast (every heartbeat relayed): the rig of the cross-node runner tests. `base`
 * is a temp dir for the runners' own files; `close` drops all of it.
 */
export async function startRunnerCluster(label: string): Promise<{ nodes: [Tower, Tower]; base: string; close(): Promise<void> }> {
  await assertPostgresReachable();
  const schema = uniqueSchema(label);
  const base = tempDir(`${label}-runners`);
  const fake = await startFakeModelServer({ format: 'openai', script: [] });
  const cluster = await startNodes(2, {
    storeUrl: `${TEST_PG_URL}?schema=${schema}`,
    busUrl: TEST_REDIS_URL,
    fake,
    env: { TOWER_RUNNER_PRESENCE_MS: '200' },
    transports: () => [runnersTransport({ heartbeatMs: 300, heartbeatEventMs: 0 }), hubTransport()],
  }).catch(async (err: unknown) => {
    await fake.close();
    throw err;
  });
  return {
    nodes: cluster.nodes as [Tower, Tower],
    base,
    close: async () => {
      await cluster.close();
      await fake.close();
      await dropSchema(schema);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * `tower serve` processes on one Postgres schema (a fresh one, dropped by `close`) and one Redis, each with
 * its own data and working dir: the rig of the multi-process cluster tests.
 */
export class ProcessCluster {
  readonly schema: string;
  readonly nodes: TowerProcess[] = [];
  private readonly dirs: string[] = [];

  /** `name` prefixes the schema and the dirs: letters, digits and `_` only (a Postgres identifier). */
  constructor(
    private readonly name: string,
    private readonly env: Record<string, string> = {},
  ) {
    this.schema = uniqueSchema(name);
  }

  async spawnNode(fake: FakeModelServer): Promise<TowerProcess> {
    const dataDir = tempDir(`${this.name}-data`);
    const workDir = tempDir(`${this.name}-work`);
    this.dirs.push(dataDir, workDir);
    const node = await spawnTower({
      fake,
      dataDir,
      workDir,
      env: { TOWER_STORE_URL: `${TEST_PG_URL}?schema=${this.schema}`, TOWER_BUS_URL: TEST_REDIS_URL, ...this.env },
    });
    this.nodes.push(node);
    return node;
  }

  /** Stops the nodes still running, then drops the schema and the dirs. */
  async close(): Promise<void> {
    for (const n of this.nodes) {
      if (n.proc.exitCode === null && n.proc.signalCode === null) n.proc.kill('SIGTERM');
      await n.exited;
    }
    await dropSchema(this.schema);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
