import type { RunnerEvent } from '../../protocol/runner-api.js';
import { remoteRunnerView, type RemoteRunner, type RemoteRunnerDirectory } from './directory.js';
import type { RunnerGateway } from './gateway.js';
import type { RunnerRegistry } from './registry.js';

/** What the relay uses of this node's gateway: its events, and whether a runner is online here. */
export type LocalRunners = Pick<RunnerGateway, 'onEvent'> & { registry: Pick<RunnerRegistry, 'get'> };

export interface RelayOptions {
  /** At most one relayed `runner_heartbeat` per runner per this interval, as the gateway's own (default 30 s). */
  heartbeatEventMs?: number;
  now?: () => number;
}

const sameRouting = (a: RemoteRunner, b: RemoteRunner): boolean => a.running_tasks === b.running_tasks && a.labels.join() === b.labels.join();

/**
 * The hub's `runner` topic in a cluster: this node's runner events marked with its node, and the other
 * nodes' runners coming, going, changing load and heartbeating (from the directory, as they publish
 * their presence), marked with theirs, so a dashboard on any node follows every runner of the cluster
 * and can tell another node's live idle runner from a dead one as it does a local one: a load or label
 * change is relayed at once, a heartbeat (its published `last_heartbeat` moved) at most once per
 * `heartbeatEventMs` per runner, like the gateway's. A runner that moved to this node (or to a third
 * one) is reported by where it is now: its old node's presence, which lags, says nothing of it.
 * Returns what stops the relay.
 */
export function relayClusterRunnerEvents(
  gateway: LocalRunners,
  directory: RemoteRunnerDirectory,
  publish: (e: RunnerEvent) => void,
  opts: RelayOptions = {},
): () => void {
  const every = opts.heartbeatEventMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const offLocal = gateway.onEvent((e) => publish({ ...e, runner: { ...e.runner, node: directory.node } }));
  const onlineHere = (id: string): boolean => gateway.registry.get(id)?.status === 'online';
  const key = (r: RemoteRunner): string => `${r.node}\u0000${r.id}`;
  let known = new Map(directory.list().map((r) => [key(r), r]));
  /** When each remote runner's last event was relayed (the heartbeat throttle). */
  const relayedAt = new Map<string, number>();
  const offRemote = directory.onPresence(() => {
    const listed = new Map(directory.list().map((r) => [key(r), r]));
    const at = now();
    const timestamp = new Date(at).toISOString();
    for (const [k, r] of listed) {
      if (onlineHere(r.id)) continue;
      const before = known.get(k);
      let type: RunnerEvent['type'] | undefined;
      if (!before) type = 'runner_connected';
      else if (!sameRouting(before, r)) type = 'runner_heartbeat';
      else if (before.details?.last_heartbeat !== r.details?.last_heartbeat && at - (relayedAt.get(k) ?? -Infinity) >= every) type = 'runner_heartbeat';
      if (!type) continue;
      relayedAt.set(k, at);
      publish({ type, runner: remoteRunnerView(r), timestamp });
    }
    const listedIds = new Set([...listed.values()].map((r) => r.id));
    for (const [k, r] of known) {
      if (listed.has(k)) continue;
      relayedAt.delete(k);
      // Gone from its node, but online on another (it reconnected there): that one's event stands.
      if (listedIds.has(r.id) || onlineHere(r.id)) continue;
      publish({ type: 'runner_disconnected', runner: { ...remoteRunnerView(r), status: 'offline', running_tasks: 0 }, timestamp });
    }
    known = listed;
  });
  return () => {
    offLocal();
    offRemote();
  };
}
