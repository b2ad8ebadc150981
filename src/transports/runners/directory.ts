import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import type { DispatchOptions, RunnerGateway } from './gateway.js';

/** A runner connected to another node of the cluster, as that node last published it. */
export interface RemoteRunner {
  id: string;
  name: string;
  labels: string[];
  running_tasks: number;
  /** The node whose gateway holds the runner's connection. */
  node: string;
}

/**
 * Runners of the other nodes of a cluster (the port the cluster implements; one node has none). A
 * session's tool call uses one when no runner connected here matches: the task goes to the runner's
 * node, which runs it on its gateway and streams the output back.
 */
export interface RemoteRunnerDirectory {
  /** Online runners of other nodes whose labels include all of `labels`, least busy first. */
  candidates(labels: readonly string[]): RemoteRunner[];
  /**
   * Runs an operation on a runner of another node: output through `onOutput`, `signal` cancels it there.
   * Resolves with the runner's result; a node that cannot be reached or goes away gives a failed result.
   * Rejects only when the task could not be sent (the runner left meanwhile): pick again.
   */
  dispatch(runner: RemoteRunner, operation: TaskOperation, args: unknown, opts: Pick<DispatchOptions, 'onOutput' | 'signal'>): Promise<TaskResultPayload>;
  /** Told whenever the published runners change (a call waiting for a runner looks again). */
  onChange(listener: () => void): () => void;
}

/** The cluster's side: given this node's gateway, publishes its runners and serves other nodes' tasks on it. */
export type RunnerDirectoryFactory = (gateway: RunnerGateway) => RemoteRunnerDirectory & { close(): Promise<void> };
