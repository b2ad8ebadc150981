import type { CommandServiceDeps } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import type { SessionManager } from '../../core/sessions/index.js';
import { PostgresStore, leasedSessions, liveNodes } from '../../store/postgres/index.js';
import type { Store } from '../../store/types.js';
import { ClusterClaim } from './claim.js';
import { ClusterCommandService } from './commands.js';
import { NodeRpc } from './rpc.js';
import { ClusterRunners } from './runners.js';
import { TakeoverPoller } from './takeover.js';
import type { RunnerDirectoryFactory } from '../../transports/runners/index.js';
import type { ClusterSettings } from './settings.js';

export { clusterSettings, DEFAULT_CLUSTER_SETTINGS, type ClusterSettings } from './settings.js';

/**
 * One node's part in a cluster (a Postgres store): session leases as the manager's claim and the
 * store's fence, the node channel for forwarded commands (with the Redis bus), and the takeover of
 * sessions dead nodes left. Built before the session manager (it needs `claims`), started after its
 * recovery (`start`), closed after its shutdown (turns release their leases first).
 */
export interface Cluster {
  readonly node: string;
  readonly claims: ClusterClaim;
  /** The command layer for this node: forwards a running session's commands to its owner. */
  commands(deps: CommandServiceDeps): ClusterCommandService;
  /** With Redis: other nodes' runners for this node's sessions, and this node's for theirs. */
  readonly runnerDirectory: RunnerDirectoryFactory | undefined;
  /** Serves forwarded commands, stops turns whose lease was lost, and starts the takeover poll. */
  start(manager: SessionManager): void;
  close(): Promise<void>;
}

export async function openCluster(
  opts: { store: Store; node: string | undefined; busUrl: string | undefined; settings: ClusterSettings },
  logger: Logger,
): Promise<Cluster | undefined> {
  const { store, node, settings } = opts;
  if (!(store instanceof PostgresStore) || node === undefined) return undefined;
  const claims = new ClusterClaim(store.pool, node, { ttlMs: settings.leaseTtlMs, renewMs: settings.leaseRenewMs });
  let rpc: NodeRpc | undefined;
  let runners: ClusterRunners | undefined;
  try {
    rpc = opts.busUrl ? await NodeRpc.open(opts.busUrl, node, logger, settings.redisPrefix) : undefined;
    runners =
      opts.busUrl && rpc
        ? await ClusterRunners.open(opts.busUrl, rpc, settings.runnerPresenceMs, logger, {
            prefix: settings.redisPrefix,
            members: async () => new Set((await liveNodes(store, node)).map((n) => n.id)),
          })
        : undefined;
  } catch (err) {
    await rpc?.close();
    claims.close();
    throw err;
  }
  store.useFence(claims);
  let service: ClusterCommandService | undefined;
  let poller: TakeoverPoller | undefined;
  return {
    node,
    claims,
    runnerDirectory: runners ? (gateway) => (runners as ClusterRunners).attach(gateway) : undefined,
    commands(deps) {
      service = new ClusterCommandService(deps, {
        node,
        rpc,
        forwardTimeoutMs: settings.forwardTimeoutMs,
        ownership: { holds: (id) => claims.holds(id), nodeOf: (id) => claims.nodeOf(id), running: (ids) => leasedSessions(store.pool, ids) },
      });
      return service;
    },
    start(manager) {
      claims.onLost((ids) => {
        logger.warn({ sessions: ids }, 'lost the lease of running sessions: stopping their turns here');
        for (const id of ids) manager.abandon(id);
      });
      const commands = service;
      if (rpc && commands) {
        rpc.serve((name, params, from) =>
          name.startsWith('runner.') && runners ? runners.handle(name, params, from) : commands.executeHere(name, params),
        );
      }
      poller = new TakeoverPoller(store.pool, manager, logger, settings.takeoverPollMs);
      poller.start();
    },
    async close() {
      await poller?.stop();
      await runners?.close();
      await rpc?.close();
      claims.close();
      store.useFence(undefined);
    },
  };
}
