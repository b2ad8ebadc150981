import type { Logger } from '../../core/logger.js';
import type { ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import type { RunnerGateway } from './gateway.js';
import type { RunnerInfo } from './registry.js';
import { isRemoteTool, toOperation, toToolResult } from './tool-mapping.js';
import { waitForRunner } from './runner-dispatch.js';

export interface RunnerExecutorOptions {
  gateway: RunnerGateway;
  /** The server's executor: its tool specs are offered, and tools runners do not serve run there. */
  local: ToolExecutor;
  /** A runner must carry all of these. */
  labels: readonly string[];
  /** How long a call waits for a matching runner to come online. */
  waitMs: number;
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

  async execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult> {
    if (!isRemoteTool(call.name)) return this.opts.local.execute(call, ctx);
    const mapped = toOperation(call.name, call.args);
    if (typeof mapped === 'string') return { output: mapped, is_error: true };
    // A runner picked can vanish before the frame goes out: pick again (within the same wait).
    const deadline = Date.now() + this.opts.waitMs;
    for (let attempt = 1; ; attempt++) {
      const runner = await this.pick(deadline, ctx.signal);
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

  /** The least busy matching runner online, waiting for one until `deadline`; null when none came. */
  private pick(deadline: number, signal: AbortSignal): Promise<RunnerInfo | null> {
    const { gateway, labels } = this.opts;
    const now = gateway.registry.candidates(labels)[0];
    if (now) return Promise.resolve(now);
    return waitForRunner(gateway, labels, deadline, signal);
  }
}
