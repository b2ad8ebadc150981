import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { MemoryBus, RedisBus, type Bus } from '../bus/index.js';
import { TowerError } from '../protocol/errors.js';
import { DEFAULT_CLUSTER_SETTINGS } from './cluster/settings.js';
import { PostgresStore, heartbeatNode, liveNodes, removeNode, NODE_LIVE_MS } from '../store/postgres/index.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { RunnerTokenStore } from '../store/runner-tokens.js';
import type { MessagingStore, Store } from '../store/types.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//;
const REDIS_URL = /^rediss?:\/\//;
const HEARTBEAT_MS = 5_000;

/** Checks the shape of `--store` / `TOWER_STORE_URL` (absent: SQLite in the data dir). */
export function checkStoreUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  if (!POSTGRES_URL.test(url)) throw new TowerError('invalid_request', 'store URL must start with postgres:// or postgresql://');
  return url;
}

/** Checks the shape of `--bus` / `TOWER_BUS_URL` (absent: the in-process bus). */
export function checkBusUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  if (!REDIS_URL.test(url)) throw new TowerError('invalid_request', 'bus URL must start with redis:// or rediss://');
  return url;
}

/** `?schema=name` on a Postgres URL keeps Tower's tables in that schema (created if absent). */
export async function openStore(url: string | undefined, dataDir: string): Promise<Store> {
  if (!url) return openSqliteStore(path.join(dataDir, 'tower.db'));
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return PostgresStore.open(parsed.toString(), schema ? { schema } : {});
}

export async function openBus(url: string | undefined, logger?: Logger, prefix?: string): Promise<Bus> {
  if (!url) return new MemoryBus(logger ? { logger } : {});
  try {
    return await RedisBus.open(url, { ...(logger ? { logger } : {}), ...(prefix ? { prefix } : {}) });
  } catch (err) {
    throw new TowerError('internal', `cannot connect to the bus at ${redact(url)}: ${(err as Error).message}`, { cause: err });
  }
}

export interface Backends {
  store: Store;
  bus: Bus;
  /** This node's id in the `nodes` table (Postgres only): leases and forwarded commands name it. */
  nodeId?: string;
  close(): Promise<void>;
}

/**
 * Store and bus for `startTower`. On Postgres the node registers itself (heartbeat in `nodes`) and
 * refuses to start where nodes would not hear each other: with the in-process bus while another node is
 * live, or next to a live node that itself runs the in-process bus.
 */
export async function openBackends(
  opts: { storeUrl?: string; busUrl?: string; dataDir: string; /** Of every Redis channel (default "tower"). */ redisPrefix?: string },
  logger?: Logger,
): Promise<Backends> {
  const store = await openStore(opts.storeUrl, opts.dataDir);
  let bus: Bus;
  try {
    bus = await openBus(opts.busUrl, logger, opts.redisPrefix);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (!(store instanceof PostgresStore)) return { store, bus, close: () => closeBoth(store, bus) };

  const nodeId = randomUUID();
  const kind = busKind(opts.busUrl, opts.redisPrefix);
  try {
    await heartbeatNode(store, nodeId, kind);
    const others = await liveNodes(store, nodeId);
    const clash = kind === 'memory' ? others : others.filter((n) => n.bus !== kind);
    const first = clash[0];
    if (first) {
      throw new TowerError(
        'conflict',
        kind === 'memory'
          ? `another Tower node is using this Postgres store (seen within ${NODE_LIVE_MS / 1000} s): several nodes need a shared bus; start every node with --bus redis://...`
          : first.bus === 'memory'
            ? `a Tower node using this Postgres store runs without a shared bus; restart it with --bus redis://... first`
            : `a Tower node using this Postgres store uses the Redis prefix "${redisPrefixOf(first.bus)}", this one "${redisPrefixOf(kind)}": every node of a cluster needs the same TOWER_REDIS_PREFIX`,
      );
    }
  } catch (err) {
    await removeNode(store, nodeId).catch(() => undefined);
    await closeBoth(store, bus);
    throw err;
  }
  const timer = setInterval(() => {
    heartbeatNode(store, nodeId, kind).catch((err: unknown) => logger?.warn({ err }, 'node heartbeat failed'));
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    store,
    bus,
    nodeId,
    close: async () => {
      clearInterval(timer);
      await removeNode(store, nodeId).catch(() => undefined);
      await closeBoth(store, bus);
    },
  };
}

/**
 * The bus a node records in `nodes`: "memory", or "redis" with the default prefix (what nodes wrote before
 * the prefix could be set, so they mix with newer ones), "redis:<prefix>" with another one. Nodes that
 * differ would not hear each other.
 */
function busKind(busUrl: string | undefined, prefix: string | undefined): string {
  if (!busUrl) return 'memory';
  return prefix && prefix !== DEFAULT_CLUSTER_SETTINGS.redisPrefix ? `redis:${prefix}` : 'redis';
}

function redisPrefixOf(kind: string): string {
  return kind.startsWith('redis:') ? kind.slice('redis:'.length) : DEFAULT_CLUSTER_SETTINGS.redisPrefix;
}

async function closeBoth(store: Store, bus: Bus): Promise<void> {
  await bus.close();
  await store.close();
}

/** The messaging tables and runner tokens of the backend in use (SQLite's file, or Postgres shared by the nodes). */
export function backendExtras(store: Store): { messaging?: MessagingStore; runnerTokens?: RunnerTokenStore } {
  const tokens = store.runnerTokens?.();
  return { ...(store.messaging ? { messaging: store.messaging } : {}), ...(tokens ? { runnerTokens: tokens } : {}) };
}

/** URLs may carry passwords; messages keep only scheme, host and port. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the configured URL';
  }
}

/** The backend URLs of a resolved config, leaving absent ones out. */
export function pickUrls(config: { storeUrl?: string; busUrl?: string }): { storeUrl?: string; busUrl?: string } {
  return { ...(config.storeUrl ? { storeUrl: config.storeUrl } : {}), ...(config.busUrl ? { busUrl: config.busUrl } : {}) };
}
