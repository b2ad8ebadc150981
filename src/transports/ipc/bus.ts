import { randomUUID } from 'node:crypto';
import { derivePorts, type RegistryEntry } from '../../protocol/pando-bus.js';
import { isLoopback } from '../net.js';
import type { RunningTransport, TransportContext, TransportStarter } from '../context.js';
import { bindHint, BusBindError, BusRecovery, type BusRetryOptions } from './bus-recovery.js';
import { acquireLock, pruneRegistry, registryDir, removeFile, writeRegistryEntry } from './discovery.js';
import type { ListTopicOptions } from './list-topic.js';
import { busMethods, uptimeOf, type InstanceState } from './methods.js';
import { BusPublisher } from './publisher.js';
import { RpcServer } from './rpc-server.js';
import { bindSockets } from './sockets.js';
import { watchSubscriptions } from './subscriptions.js';
import { TopicDeriver } from './topics.js';

export interface BusOptions {
  /** Where registry files go (default `$TOWER_PANDO_REGISTRY_DIR` or /tmp/pando-instances). */
  registryDir?: string;
  /** Heartbeat period, 5 s as Pando's; tests shorten it. */
  heartbeatMs?: number;
  /** PUB high-water mark per subscriber, in frames. */
  sendHighWaterMark?: number;
  /** Pacing of `session.list` and its periodic full re-read (tests shorten them). */
  list?: ListTopicOptions;
  /** Retries after a failed bind (tests shorten them). */
  retry?: BusRetryOptions;
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
 * registry file. Declines (undefined, with a log line) only when turned off. Ports it cannot bind (taken,
 * often by the kernel's own ephemeral use of Pando's range) are an error with code `bus_bind_failed`:
 * logged as such, shown as down on `/metrics` (`tower_transport_up{transport="bus"} 0`), and retried in
 * the background until they bind. Tower's HTTP API runs either way.
 */
export function busTransport(opts: BusOptions = {}): TransportStarter {
  return async (ctx) => {
    let recovery: BusRecovery<RunningBus> | undefined;
    let bus: RunningBus | undefined;
    const untrack = ctx.metrics?.transportState('bus', () => (recovery ? recovery.bus !== undefined : bus !== undefined));
    try {
      bus = await startBus(ctx, opts);
    } catch (err) {
      if (!(err instanceof BusBindError)) {
        untrack?.();
        throw err;
      }
      const logger = ctx.logger.child({ transport: 'bus' });
      logger.error({ code: err.code, errno: err.errno, ports: err.ports, err }, `instance bus DOWN: ${err.message}. HTTP is unaffected; retrying in the background (or use --bus-port / --no-bus)`);
      const retrying = new BusRecovery(async () => {
        const started = await startBus(ctx, opts);
        if (!started) throw new Error('instance bus turned off');
        return started;
      }, err, logger, opts.retry);
      recovery = retrying;
      return withUntrack(retrying, untrack);
    }
    if (!bus) untrack?.();
    return bus && withUntrack(bus, untrack);
  };
}

/** Closing the transport also drops its `/metrics` state. */
function withUntrack<T extends RunningTransport>(transport: T, untrack: (() => void) | undefined): T {
  if (!untrack) return transport;
  const close = transport.close.bind(transport);
  return Object.assign(transport, {
    close: async () => {
      untrack();
      await close();
    },
  });
}

/** Starts the bus, or declines (undefined) when turned off; throws `BusBindError` when its ports do not bind. */
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
  let sockets: Awaited<ReturnType<typeof bindSockets>>;
  try {
    sockets = await bindSockets(config.bus.host, wanted, opts.sendHighWaterMark ?? 10_000);
  } catch (err) {
    lock.release();
    const errno = (err as { code?: unknown }).code;
    const why = errno === 'EADDRINUSE' ? bindHint(wanted) : `${err instanceof Error ? err.message : String(err)}`;
    throw new BusBindError(`cannot bind ${config.bus.host}: ${why}`, wanted, typeof errno === 'string' ? errno : undefined, { cause: err });
  }

  const startedAt = new Date();
  const state: InstanceState = {
    instanceId, startedAt, version: ctx.version, workdir, activeSessionId: undefined,
    endpoints: { pub: sockets.pubEndpoint, rpc: sockets.rpcEndpoint, http: ctx.http.url },
  };
  const watched = watchSubscriptions(sockets.pub, logger);
  const publisher = new BusPublisher(sockets.pub, instanceId, logger, undefined, watched.subscriptions);
  const topics = new TopicDeriver(ctx.commands, ctx.store, publisher, state, logger, opts.list);
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
      await watched.done;
    })());

  return {
    name: 'bus', instanceId, pubPort: sockets.pubPort, rpcPort: sockets.rpcPort, primary: lock.primary, registryFile, publisher, topics, close,
  };
}
