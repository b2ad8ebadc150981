import type { RunnerEvent } from '../../protocol/runner-api.js';
import { remoteRunnerView, type RemoteRunner, type RemoteRunnerDirectory } from './directory.js';
import type { RunnerGateway } from './gateway.js';
import type { RunnerRegistry } from './registry.js';

/** What the relay uses of this node's gateway: its events, and whether a runner is online here. */
export type LocalRunners = Pick<RunnerGateway, 'onEvent'> & { registry: Pick<RunnerRegistry, 'get'> };

/**
 * The hub's `runner` topic in a cluster: this node's runner events marked with its node, and the other
 * nodes' runners coming, going and changing load (from the directory, as they publish their presence),
 * marked with theirs, so a dashboard on any node follows every runner of the cluster. A runner that moved
 * to this node (or to a third one) is reported by where it is now: its old node's presence, which lags,
 * says nothing of it.
 * Returns what stops the relay.
 */
export function relayClusterRunnerEvents(gateway: LocalRunners, directory: RemoteRunnerDirectory, publish: (e: RunnerEvent) => void): () => void {
  const offLocal = gateway.onEvent((e) => publish({ ...e, runner: { ...e.runner, node: directory.node } }));
  const onlineHere = (id: string): boolean => gateway.registry.get(id)?.status === 'online';
  const key = (r: RemoteRunner): string => `${r.node}\u0000${r.id}`;
  let known = new Map(directory.list().map((r) => [key(r), r]));
  const offRemote = directory.onChange(() => {
    const now = new Map(directory.list().map((r) => [key(r), r]));
    const timestamp = new Date().toISOString();
    for (const [k, r] of now) {
      if (onlineHere(r.id)) continue;
      const before = known.get(k);
      if (!before) publish({ type: 'runner_connected', runner: remoteRunnerView(r), timestamp });
      else if (before.running_tasks !== r.running_tasks || before.labels.join() !== r.labels.join()) {
        publish({ type: 'runner_heartbeat', runner: remoteRunnerView(r), timestamp });
      }
    }
    const listedNow = new Set([...now.values()].map((r) => r.id));
    for (const [k, r] of known) {
      // Gone from its node, but online on another (it reconnected there): that one's event stands.
      if (now.has(k) || listedNow.has(r.id) || onlineHere(r.id)) continue;
      publish({ type: 'runner_disconnected', runner: { ...remoteRunnerView(r), status: 'offline', running_tasks: 0 }, timestamp });
    }
    known = now;
  });
  return () => {
    offLocal();
    offRemote();
  };
}
