import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import type { RunnerView } from '../../protocol/runner-api.js';
import type { DispatchOptions, RunnerGateway } from './gateway.js';

/** A runner connected to another node of the cluster, as that node last published it. */
export interface RemoteRunner {
  id: string;
  name: string;
  labels: string[];
  running_tasks: number;
  /** The node whose gateway holds the runner's connection. */
  node: string;
  /** The rest of its view as that node published it (for listings; older nodes publish none of it). */
  details?: Pick<RunnerView, 'connected_at' | 'last_heartbeat' | 'version' | 'environment' | 'metrics'>;
}

/**
 * Runners of the other nodes of a cluster (the port the cluster implements; one node has none). A
 * session's tool call uses one when no runner connected here matches: the task goes to the runner's
 * node, which runs it on its gateway and streams the output back.
 */
export interface RemoteRunnerDirectory {
  /** This node's id, as the other nodes know it (what its own runners are listed under). */
  readonly node: string;
  /** Every online runner of the other nodes, for listings (`GET /api/runners`). */
  list(): RemoteRunner[];
  /** Online runners of other nodes whose labels include all of `labels`, least busy first. */
  candidates(labels: readonly string[]): RemoteRunner[];
  /**
   * Runs an operation on a runner of another node: output through `onOutput`, `signal` cancels it there.
   * Resolves with the runner's result; a node that cannot be reached or goes away gives a failed result.
   * Rejects only when the task could not be sent (the runner left meanwhile): pick again.
   */
  dispatch(runner: RemoteRunner, operation: TaskOperation, args: unknown, opts: Pick<DispatchOptions, 'onOutput' | 'signal'>): Promise<TaskResultPayload>;
  /** Told whenever who can take tasks changes (runners, labels, load): a call waiting for a runner looks again. */
  onChange(listener: () => void): () => void;
  /**
   * Told whenever anything the other nodes published changed, heartbeats and metrics included (a
   * superset of `onChange`), so a watcher sees another node's idle runner is alive as it sees a local one.
   */
  onPresence(listener: () => void): () => void;
}

/** A runner of another node as `GET /api/runners` lists it: online (only those are published), with its node. */
export function remoteRunnerView(r: RemoteRunner): RunnerView {
  return {
    id: r.id,
    name: r.name,
    labels: r.labels,
    status: 'online',
    connected_at: r.details?.connected_at ?? null,
    last_heartbeat: r.details?.last_heartbeat ?? null,
    version: r.details?.version ?? null,
    environment: r.details?.environment ?? null,
    metrics: r.details?.metrics ?? null,
    running_tasks: r.running_tasks,
    node: r.node,
  };
}

/**
 * The cluster's runners as one list: this node's (any status), then the other nodes' online ones. A runner
 * that reconnected to another node is listed once: online wins over offline, and this node's view over
 * the other's (whose presence lags).
 */
export function clusterRunnerList(here: readonly RunnerView[], elsewhere: readonly RemoteRunner[]): RunnerView[] {
  const online = new Set(here.filter((r) => r.status === 'online').map((r) => r.id));
  const far = elsewhere.filter((r) => !online.has(r.id));
  const farIds = new Set(far.map((r) => r.id));
  return [...here.filter((r) => !farIds.has(r.id)), ...far.map(remoteRunnerView)];
}

/** The cluster's side: given this node's gateway, publishes its runners and serves other nodes' tasks on it. */
export type RunnerDirectoryFactory = (gateway: RunnerGateway) => RemoteRunnerDirectory & { close(): Promise<void> };
