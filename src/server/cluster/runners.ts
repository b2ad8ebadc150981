import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import { RunnerView } from '../../protocol/runner-api.js';
import type { RemoteRunner, RemoteRunnerDirectory, RunnerGateway } from '../../transports/runners/index.js';
import type { NodeRpc } from './rpc.js';

/** A task sent to the node whose gateway holds the runner. */
const RemoteTask = z.object({ task_id: z.string().min(1).max(200), runner_id: z.string().min(1).max(200), operation: TaskOperation, args: z.unknown() });
const TaskOutput = z.object({ task_id: z.string(), stream: z.enum(['stdout', 'stderr']), data: z.string() });
const TaskCancel = z.object({ task_id: z.string() });
const Published = z.object({
  node: z.string(),
  runners: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      labels: z.array(z.string()),
      running_tasks: z.number(),
      details: RunnerView.pick({ connected_at: true, last_heartbeat: true, version: true, environment: true, metrics: true }).optional(),
    }),
  ),
});

/** A running remote task is only bounded by its runner (and cancel); a node that goes away ends it. */
const TASK_CALL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

interface Outgoing {
  node: string;
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
  /** Ends the task now with a failed result (its node left the directory). */
  lost(reason: string): void;
}

/**
 * Runners across the nodes of a cluster. Each node publishes its online runners (labels, load) to Redis
 * every `presenceMs` and on every runner event, under a key that expires after three intervals, and
 * reads the other nodes' (`candidates`). A task for another node's runner goes as a `runner.task`
 * request over `NodeRpc`; that node runs it on its gateway, streams output back as `runner.output`
 * notes (same channel as the answer, so in order) and answers with the task's result; a `runner.cancel`
 * note aborts it there. A node whose presence expires fails the tasks sent to it.
 */
export class ClusterRunners implements RemoteRunnerDirectory {
  private others: RemoteRunner[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly presenceListeners = new Set<() => void>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly incoming = new Map<string, AbortController>();
  private gateway: RunnerGateway | undefined;
  private offGateway: () => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly rpc: NodeRpc,
    private readonly presenceMs: number,
    private readonly logger: Logger,
    private readonly prefix: string,
    private readonly members: (() => Promise<ReadonlySet<string>>) | undefined,
  ) {
    rpc.onNote((name, params) => this.note(name, params));
  }

  /**
   * `members`: the live nodes of this cluster (its store's `nodes` table), so runners published on the
   * same Redis by another cluster's nodes are never used; absent, every published node counts.
   */
  static async open(
    url: string,
    rpc: NodeRpc,
    presenceMs: number,
    logger: Logger,
    opts: { prefix?: string; members?: () => Promise<ReadonlySet<string>> } = {},
  ): Promise<ClusterRunners> {
    const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `tower-runners-${rpc.node}` });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new TowerError('internal', `cannot open the runner directory on Redis: ${(err as Error).message}`, { cause: err });
    }
    return new ClusterRunners(redis, rpc, presenceMs, logger, opts.prefix ?? 'tower', opts.members);
  }

  /** Starts publishing this node's runners and serving other nodes' tasks on `gateway`. */
  attach(gateway: RunnerGateway): this {
    this.gateway = gateway;
    this.offGateway = gateway.onEvent(() => void this.publish());
    void this.tick();
    return this;
  }

  get node(): string {
    return this.rpc.node;
  }

  list(): RemoteRunner[] {
    return [...this.others];
  }

  candidates(labels: readonly string[]): RemoteRunner[] {
    return this.others
      .filter((r) => labels.every((l) => r.labels.includes(l)))
      .sort((a, b) => a.running_tasks - b.running_tasks || (a.id < b.id ? -1 : 1));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onPresence(listener: () => void): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  async dispatch(
    runner: RemoteRunner,
    operation: TaskOperation,
    args: unknown,
    opts: { onOutput?: (stream: 'stdout' | 'stderr', data: string) => void; signal?: AbortSignal },
  ): Promise<TaskResultPayload> {
    const taskId = randomUUID();
    const failed = (error: string): TaskResultPayload => ({ task_id: taskId, success: false, error });
    let lost!: (reason: string) => void;
    const gone = new Promise<TaskResultPayload>((resolve) => (lost = (reason) => resolve(failed(reason))));
    this.outgoing.set(taskId, { node: runner.node, ...(opts.onOutput ? { onOutput: opts.onOutput } : {}), lost });
    const onAbort = (): void => void this.rpc.notify(runner.node, 'runner.cancel', { task_id: taskId });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const answer = this.rpc.call(runner.node, 'runner.task', { task_id: taskId, runner_id: runner.id, operation, args }, TASK_CALL_TIMEOUT_MS).then(
        (raw) => {
          const parsed = TaskResultPayload.safeParse(raw);
          return parsed.success ? parsed.data : failed(`node ${runner.node} answered the task with a result of the wrong shape`);
        },
        (err: unknown) => {
          // The runner left that node before the task went out: the caller picks again.
          if (isTowerError(err) && err.code === 'not_found') throw err;
          return failed(`the task could not run on node ${runner.node}: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
      return await Promise.race([answer, gone]);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      this.outgoing.delete(taskId);
    }
  }

  /** A `runner.*` request from another node (the node channel routes them here). */
  async handle(name: string, params: unknown, from: string): Promise<unknown> {
    if (name !== 'runner.task') throw new TowerError('invalid_request', `unknown node request ${name}`);
    const gateway = this.gateway;
    if (!gateway) throw new TowerError('not_ready', 'this node has no runner gateway');
    const task = RemoteTask.safeParse(params);
    if (!task.success) throw new TowerError('invalid_request', `runner.task: ${task.error.issues[0]?.message ?? 'invalid'}`);
    const { task_id, runner_id, operation, args } = task.data;
    const abort = new AbortController();
    this.incoming.set(task_id, abort);
    try {
      return await gateway.dispatch(runner_id, operation, args, {
        signal: abort.signal,
        onOutput: (stream, data) => void this.rpc.notify(from, 'runner.output', { task_id, stream, data }),
      });
    } finally {
      this.incoming.delete(task_id);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.offGateway();
    for (const abort of this.incoming.values()) abort.abort();
    for (const task of this.outgoing.values()) task.lost('Tower is shutting down');
    await this.redis.del(this.key(this.rpc.node)).catch(() => undefined);
    this.redis.disconnect();
  }

  private note(name: string, params: unknown): void {
    if (name === 'runner.output') {
      const out = TaskOutput.safeParse(params);
      if (out.success) this.outgoing.get(out.data.task_id)?.onOutput?.(out.data.stream, out.data.data);
    } else if (name === 'runner.cancel') {
      const cancel = TaskCancel.safeParse(params);
      if (cancel.success) this.incoming.get(cancel.data.task_id)?.abort();
    }
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    await this.publish();
    await this.read();
    if (!this.closed) this.timer = setTimeout(() => void this.tick(), this.presenceMs);
  }

  private async publish(): Promise<void> {
    const gateway = this.gateway;
    if (!gateway || this.closed) return;
    const runners = gateway.registry.candidates([]).map((r) => ({
      id: r.id,
      name: r.name,
      labels: r.labels,
      running_tasks: r.running_tasks,
      details: { connected_at: r.connected_at, last_heartbeat: r.last_heartbeat, version: r.version, environment: r.environment, metrics: r.metrics },
    }));
    try {
      await this.redis.set(this.key(this.rpc.node), JSON.stringify({ node: this.rpc.node, runners }), 'PX', this.presenceMs * 3);
      await this.redis.sadd(this.nodesKey(), this.rpc.node);
    } catch (err) {
      this.logger.debug({ err }, 'could not publish this node’s runners');
    }
  }

  private async read(): Promise<void> {
    let others: RemoteRunner[];
    try {
      const members = await this.members?.();
      const nodes = (await this.redis.smembers(this.nodesKey())).filter((n) => n !== this.rpc.node && (members?.has(n) ?? true));
      const raws = nodes.length ? await this.redis.mget(...nodes.map((n) => this.key(n))) : [];
      const present = new Set<string>();
      others = [];
      const expired: string[] = [];
      raws.forEach((raw, i) => {
        if (raw === null) return void expired.push(nodes[i] as string);
        const parsed = Published.safeParse(safeJson(raw));
        if (!parsed.success) return;
        present.add(nodes[i] as string);
        for (const r of parsed.data.runners) others.push({ ...r, node: parsed.data.node });
      });
      // A node's key expired (it stopped or died): it leaves the set; it adds itself again if it lives.
      if (expired.length) await this.redis.srem(this.nodesKey(), ...expired);
      for (const task of this.outgoing.values()) {
        if (!present.has(task.node)) task.lost(`node ${task.node} holding the runner went away; the task's outcome is unknown`);
      }
    } catch (err) {
      this.logger.debug({ err }, 'could not read the other nodes’ runners');
      return;
    }
    // onChange listeners care about who can take tasks (labels, load), not heartbeats: details are left
    // out; presence listeners (the hub's runner topic) hear of heartbeats too.
    const routing = (list: RemoteRunner[]): string => JSON.stringify(list.map(({ details: _details, ...r }) => r));
    const before = routing(this.others);
    const presenceBefore = JSON.stringify(this.others);
    this.others = others;
    if (routing(others) !== before) for (const l of [...this.listeners]) l();
    if (JSON.stringify(others) !== presenceBefore) for (const l of [...this.presenceListeners]) l();
  }

  private key(node: string): string {
    return `${this.prefix}:runners:${node}`;
  }

  private nodesKey(): string {
    return `${this.prefix}:runner-nodes`;
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
