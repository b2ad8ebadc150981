import type { Logger } from '../../core/logger.js';
import type { RunnerRef, ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import type { RunnerGateway } from './gateway.js';
import type { RunnerInfo } from './registry.js';
import { isRemoteTool, toOperation, toToolResult } from './tool-mapping.js';
import { waitForRunner } from './runner-dispatch.js';

export interface RunnerExecutorOptions {
  /** What the executor uses of the gateway: the registry to pick from, dispatch, and runner events. */
  gateway: Pick<RunnerGateway, 'registry' | 'dispatch' | 'onEvent'>;
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
    const runner = this.opts.gateway.registry.candidates(this.opts.labels)[0];
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
      try {
        result = await this.opts.gateway.dispatch(runner.id, mapped.operation, mapped.args, {
          signal: ctx.signal,
          ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
        });
      } catch (err) {
        // Bounded: the registry and the connections agree, so this is a race with a disconnect, not a loop.
        if (attempt >= 3) return { output: `could not send ${call.name} to a runner: ${err instanceof Error ? err.message : String(err)}`, is_error: true };
        this.opts.logger.debug({ err, runner_id: runner.id }, 'runner left before the task was sent; picking again');
        continue;
      }
      const where = { id: runner.id, name: runner.name };
      if (ctx.signal.aborted) return { ...CANCELED, runner: where };
      return { ...toToolResult(call.name, result), runner: where };
    }
  }

  private networkOn(settings: Pick<ToolContext, 'network'>): boolean {
    return settings.network ?? this.opts.network ?? false;
  }

  /**
   * The `preferred` runner if it is still online and matching, else the least busy matching runner online,
   * waiting for one until `deadline`; null when none came.
   */
  private pick(deadline: number, signal: AbortSignal, preferred?: RunnerRef): Promise<RunnerInfo | null> {
    const { gateway, labels } = this.opts;
    const candidates = gateway.registry.candidates(labels);
    const now = candidates.find((r) => r.id === preferred?.id) ?? candidates[0];
    if (now) return Promise.resolve(now);
    return waitForRunner(gateway, labels, deadline, signal);
  }
}
