import { randomUUID } from 'node:crypto';
import { derivePorts, type RegistryEntry } from '../../protocol/pando-bus.js';
import { isLoopback } from '../net.js';
import type { RunningTransport, TransportContext, TransportStarter } from '../context.js';
import { acquireLock, pruneRegistry, registryDir, removeFile, writeRegistryEntry } from './discovery.js';
import { busMethods, uptimeOf, type InstanceState } from './methods.js';
import { BusPublisher } from './publisher.js';
import { RpcServer } from './rpc-server.js';
import { bindSockets } from './sockets.js';
import { TopicDeriver } from './topics.js';

export interface BusOptions {
  /** Where registry files go (default `$TOWER_PANDO_REGISTRY_DIR` or /tmp/pando-instances). */
  registryDir?: string;
  /** Heartbeat period, 5 s as Pando's; tests shorten it. */
  heartbeatMs?: number;
  /** PUB high-water mark per subscriber, in frames. */
  sendHighWaterMark?: number;
}

export interface RunningBus extends RunningTransport {
  readonly instanceId: string;
  readonly pubPort: number;
  readonly rpcPort: number;
  readonly primary: boolean;
  readonly registryFile: string;
  readonly publisher: BusPublisher;
  readonly topics: TopicDeriver;
}

export const HEARTBEAT_MS = 5000;

/**
 * The Pando instance bus as a transport beside HTTP: PUB + ROUTER on the derived ports, the lock and the
 * registry file. Declines (returns undefined, with a clear log line) when turned off or when its ports
 * are taken; Tower's HTTP API runs either way.
 */
export function busTransport(opts: BusOptions = {}): TransportStarter {
  return (ctx) => startBus(ctx, opts);
}

export async function startBus(ctx: TransportContext, opts: BusOptions = {}): Promise<RunningBus | undefined> {
  const { config, logger: root } = ctx;
  const logger = root.child({ transport: 'bus' });
  if (!config.bus.enabled) {
    logger.info('instance bus off (--no-bus)');
    return undefined;
  }
  if (!isLoopback(config.bus.host)) {
    logger.warn({ host: config.bus.host }, 'instance bus bound beyond loopback: the Pando wire has no authentication, anyone who reaches it can drive every session');
  }
  const workdir = config.workingDir;
  const instanceId = randomUUID();
  const lock = await acquireLock(workdir, logger);
  if (!lock.primary) {
    logger.warn({ holder: lock.holder }, `instance bus: not primary for ${workdir} (another instance holds .pando/ipc.lock); using free ports`);
  }
  const wanted = config.bus.port !== undefined ? { pub: config.bus.port, rpc: config.bus.port + 1 } : lock.primary ? derivePorts(workdir) : undefined;
  const sockets = await bindSockets(config.bus.host, wanted, opts.sendHighWaterMark ?? 10_000).catch((err: unknown) => {
    lock.release();
    const ports = wanted ? `${wanted.pub}/${wanted.rpc}` : 'free ports';
    logger.error({ err, ports }, `instance bus NOT started: cannot bind ${config.bus.host} ${ports} (taken?); use --bus-port or --no-bus. HTTP is unaffected`);
    return undefined;
  });
  if (!sockets) return undefined;

  const startedAt = new Date();
  const state: InstanceState = {
    instanceId, startedAt, version: ctx.version, workdir, activeSessionId: undefined,
    endpoints: { pub: sockets.pubEndpoint, rpc: sockets.rpcEndpoint, http: ctx.http.url },
  };
  const publisher = new BusPublisher(sockets.pub, instanceId, logger, undefined, sockets.interest);
  const topics = new TopicDeriver(ctx.commands, publisher, state, logger);
  await topics.prime().catch((err: unknown) => logger.warn({ err }, 'bus: could not read the session list at start'));
  const untap = ctx.log.tap((events) => topics.onBatch(events));
  const rpc = new RpcServer(sockets.router, busMethods({ commands: ctx.commands, state, publisher }), logger);
  rpc.start();

  const heartbeat = setInterval(() => {
    publisher.publish('instance.heartbeat', {
      instance_id: instanceId,
      ...(state.activeSessionId ? { active_session_id: state.activeSessionId } : {}),
      session_count: topics.sessionCount,
      uptime: uptimeOf(state),
      started_at: startedAt.toISOString(),
    });
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const entry: RegistryEntry = {
    instance_id: instanceId, path: workdir, pid: process.pid, pub_port: sockets.pubPort, rpc_port: sockets.rpcPort,
    started_at: startedAt.toISOString(), mode: 'tower', is_primary: lock.primary,
  };
  if (lock.primary) lock.write({ instance_id: instanceId, pid: process.pid, pub_port: sockets.pubPort, rpc_port: sockets.rpcPort, started_at: entry.started_at });
  const dir = opts.registryDir ?? registryDir();
  pruneRegistry(dir);
  const registryFile = writeRegistryEntry(dir, entry);
  logger.info({ instance_id: instanceId, pub: sockets.pubEndpoint, rpc: sockets.rpcEndpoint, primary: lock.primary }, 'instance bus listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(heartbeat);
      untap();
      topics.close();
      removeFile(registryFile);
      lock.release();
      await rpc.drain();
      await publisher.publishNow('instance.shutdown', { instance_id: instanceId, reason: 'shutdown' });
      await sockets.close();
      await rpc.stopped();
    })());

  return {
    name: 'bus', instanceId, pubPort: sockets.pubPort, rpcPort: sockets.rpcPort, primary: lock.primary, registryFile, publisher, topics, close,
  };
}
