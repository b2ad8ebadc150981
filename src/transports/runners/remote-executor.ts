import type { Logger } from '../../core/logger.js';
import type { RunnerRef, ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import type { RunnerGateway } from './gateway.js';
import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import { CANCEL_GRACE_MS, CANCEL_UNANSWERED, type DispatchOptions } from './gateway.js';
import type { RemoteRunnerDirectory } from './directory.js';
import { isRemoteTool, taskLimitMs, toOperation, toToolResult, type Mapped } from './tool-mapping.js';

export interface RunnerExecutorOptions {
  /** What the executor uses of the gateway: the registry to pick from, dispatch, and runner events. */
  gateway: Pick<RunnerGateway, 'registry' | 'dispatch' | 'onEvent'>;
  /** Runners of the other nodes of a cluster, used when none connected here matches. */
  remote?: RemoteRunnerDirectory;
  /** The server's executor: its tool specs are offered, and tools runners do not serve run there. */
  local: ToolExecutor;
  /** A runner must carry all of these. */
  labels: readonly string[];
  /** How long a call waits for a matching runner to come online. */
  waitMs: number;
  /** Network access (webfetch) for sessions that do not set `network` themselves (config `network`). */
  network?: boolean;
  /** Told when a call found no runner (the session log gets an `error` event with code `no_runner`). */
  onNoRunner: (message: string) => void;
  logger: Logger;
  /** How long a task may run before Tower ends it; default `taskLimitMs` (the tool's own limit plus slack). */
  limitMs?: (mapped: Mapped) => number;
  /**
   * After the limit or an interrupt, how long to wait for the task's answer before giving up on it. A
   * backstop: the gateway gives up on a silent runner itself (`CANCEL_GRACE_MS`); this bounds a task sent
   * to another node of the cluster, whose answer crosses one more hop.
   */
  cancelGraceMs?: number;
}

/** The stable code a timed-out remote task's result starts with (`task_timeout: ...`). */
export const TASK_TIMEOUT = 'task_timeout';
/** What an answer crossing between nodes may take beyond the serving gateway's own cancel grace. */
export const CLUSTER_HOP_MS = 2000;

/** A runner a call can go to: connected here, or to another node of the cluster. */
interface Target {
  id: string;
  name: string;
  run(operation: TaskOperation, args: unknown, opts: Pick<DispatchOptions, 'onOutput' | 'signal'>): Promise<TaskResultPayload>;
}

const CANCELED: ToolResult = { output: 'canceled: the turn was interrupted before this tool finished', is_error: true };

/**
 * A session's executor when its tools run on remote runners: each built-in tool call goes to an online
 * runner whose labels include the session's, least busy first, waiting up to `waitMs` for one. Bash
 * output streams back through `onOutput`; the call's abort signal becomes `task.cancel`.
 */
export class RunnerToolExecutor implements ToolExecutor {
  constructor(private readonly opts: RunnerExecutorOptions) {}

  specs(): ToolSpec[] {
    return this.opts.local.specs();
  }

  /**
   * The runner a call goes to if it ran now: the least busy matching one online (none online: undefined,
   * and `execute` waits for one). `execute` keeps to it while it stays online and matching.
   */
  place(call: { name: string; args: unknown }, settings: Pick<ToolContext, 'network'> = {}): RunnerRef | undefined {
    if (!isRemoteTool(call.name) || typeof toOperation(call.name, call.args) === 'string') return undefined;
    if (call.name === 'webfetch' && !this.networkOn(settings)) return undefined;
    const runner = this.now();
    return runner ? { id: runner.id, name: runner.name } : undefined;
  }

  async execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult> {
    if (!isRemoteTool(call.name)) return this.opts.local.execute(call, ctx);
    // A session without network access fetches nothing, wherever it runs: the local tool gives the refusal.
    if (call.name === 'webfetch' && !this.networkOn(ctx)) return this.opts.local.execute(call, { ...ctx, network: false });
    const mapped = toOperation(call.name, call.args);
    if (typeof mapped === 'string') return { output: mapped, is_error: true };
    // A runner picked can vanish before the frame goes out: pick again (within the same wait).
    const deadline = Date.now() + this.opts.waitMs;
    for (let attempt = 1; ; attempt++) {
      const runner = await this.pick(deadline, ctx.signal, attempt === 1 ? call.runner : undefined);
      if (ctx.signal.aborted) return CANCELED;
      if (!runner) {
        const message = `no runner with labels [${this.opts.labels.join(', ')}] came online within ${Math.round(this.opts.waitMs / 100) / 10} s; the tool did not run`;
        this.opts.onNoRunner(message);
        return { output: message, is_error: true };
      }
      let result;
      const limit = new TaskLimit((this.opts.limitMs ?? taskLimitMs)(mapped), ctx.signal);
      try {
        result = await limit.race(
          runner.run(mapped.operation, mapped.args, {
            signal: limit.signal,
            ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
          }),
          this.opts.cancelGraceMs ?? CANCEL_GRACE_MS + CLUSTER_HOP_MS,
        );
      } catch (err) {
        // Bounded: the registry and the connections agree, so this is a race with a disconnect, not a loop.
        if (attempt >= 3) return { output: `could not send ${call.name} to a runner: ${err instanceof Error ? err.message : String(err)}`, is_error: true };
        this.opts.logger.debug({ err, runner_id: runner.id }, 'runner left before the task was sent; picking again');
        continue;
      } finally {
        limit.dispose();
      }
      const where = { id: runner.id, name: runner.name };
      if (ctx.signal.aborted) return { ...CANCELED, runner: where };
      // The gateway gave up on a runner that did not answer the cancel: no partial output to show.
      if (result?.success === false && result.error?.startsWith(CANCEL_UNANSWERED)) result = null;
      if (limit.expired || result === null) {
        this.opts.logger.warn({ runner_id: runner.id, tool: call.name, limit_ms: limit.ms, answered: result !== null }, 'remote task timed out; the runner was told to stop it');
        const head = `${TASK_TIMEOUT}: ${call.name} did not finish on runner ${runner.name} within ${Math.round(limit.ms / 100) / 10} s; the runner was told to stop it`;
        // What the runner answered the cancel with (bash: the output so far), when it answered in time.
        const partial = result === null ? '' : toToolResult(call.name, result).output;
        return { output: partial ? `${head}\n${partial}` : head, is_error: true, ...(call.name === 'bash' ? { exit_code: 124 } : {}), runner: where };
      }
      return { ...toToolResult(call.name, result), runner: where };
    }
  }

  private networkOn(settings: Pick<ToolContext, 'network'>): boolean {
    return settings.network ?? this.opts.network ?? false;
  }

  /**
   * The runner a call goes to now: the `preferred` one if still online and matching, else the least busy
   * matching runner connected here, else one of another node; undefined when none is online.
   */
  private now(preferred?: RunnerRef): Target | undefined {
    const { gateway, labels, remote } = this.opts;
    const here = gateway.registry.candidates(labels);
    const elsewhere = remote?.candidates(labels) ?? [];
    const local = (r: { id: string; name: string }): Target => ({ id: r.id, name: r.name, run: (op, args, o) => gateway.dispatch(r.id, op, args, o) });
    const mine = here.find((r) => r.id === preferred?.id);
    if (mine) return local(mine);
    const other = elsewhere.find((r) => r.id === preferred?.id) ?? (here[0] ? undefined : elsewhere[0]);
    if (other && remote) return { id: other.id, name: other.name, run: (op, args, o) => remote.dispatch(other, op, args, o) };
    return here[0] ? local(here[0]) : undefined;
  }

  /** `now`, or the first runner to come online (here or on another node) until `deadline`; null when none came. */
  private pick(deadline: number, signal: AbortSignal, preferred?: RunnerRef): Promise<Target | null> {
    const found = this.now(preferred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const done = (value: Target | null): void => {
        clearTimeout(timer);
        offLocal();
        offRemote();
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const look = (): void => {
        const runner = this.now();
        if (runner) done(runner);
      };
      const onAbort = (): void => done(null);
      const timer = setTimeout(() => done(this.now() ?? null), Math.max(0, deadline - Date.now()));
      const offLocal = this.opts.gateway.onEvent(look);
      const offRemote = this.opts.remote?.onChange(look) ?? (() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * A remote task's time limit. At `ms`, or when the caller aborts, its signal aborts, which makes the
 * gateway send `task.cancel` (the runner kills the command's tree and answers). `race` then waits
 * `graceMs` more for that answer and, if none comes (a hung runner, a lost node), resolves with null
 * instead: the call must not wait forever.
 *
 * A timer per call is kept on purpose: Node keeps one list per duration, so arming and clearing a 135 s
 * timer costs ~0.2 us, less than a shared deadline heap did (~0.7 us, wave 9, bench/RESULTS.md); of this
 * class's ~5 us per call the AbortController (~3.4 us) and the abort listener (~1.4 us) are the rest.
 */
class TaskLimit {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onOuterAbort = (): void => this.stop();
  /** The limit passed (not the caller's own abort). */
  expired = false;
  private giveUp: (() => void) | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly ms: number,
    private readonly outer: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.expired = true;
      this.stop();
    }, ms);
    outer.addEventListener('abort', this.onOuterAbort, { once: true });
    if (outer.aborted) this.controller.abort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  race<T>(task: Promise<T>, graceMs: number): Promise<T | null> {
    const silent = new Promise<null>((resolve) => {
      this.giveUp = (): void => {
        this.graceTimer ??= setTimeout(() => resolve(null), graceMs);
      };
    });
    if (this.controller.signal.aborted) this.giveUp?.();
    return Promise.race([task, silent]);
  }

  private stop(): void {
    this.controller.abort();
    this.giveUp?.();
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.graceTimer);
    this.outer.removeEventListener('abort', this.onOuterAbort);
  }
}
