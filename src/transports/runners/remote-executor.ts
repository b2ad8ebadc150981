import type { ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import { CANCELED, RunnerDispatcher, type RunnerDispatchOptions } from './runner-dispatch.js';
import { isRemoteTool, toOperation, toToolResult } from './tool-mapping.js';

export interface RunnerExecutorOptions extends RunnerDispatchOptions {
  /** The server's executor: its tool specs are offered, and tools runners do not serve run there. */
  local: ToolExecutor;
}

/**
 * A session's executor when its tools run on remote runners: each built-in tool call goes to an online
 * runner whose labels include the session's, least busy first, waiting up to `waitMs` for one. Bash
 * output streams back through `onOutput`; the call's abort signal becomes `task.cancel`.
 */
export class RunnerToolExecutor implements ToolExecutor {
  private readonly runners: RunnerDispatcher;

  constructor(private readonly opts: RunnerExecutorOptions) {
    this.runners = new RunnerDispatcher(opts);
  }

  specs(): ToolSpec[] {
    return this.opts.local.specs();
  }

  async execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult> {
    if (!isRemoteTool(call.name)) return this.opts.local.execute(call, ctx);
    const mapped = toOperation(call.name, call.args);
    if (typeof mapped === 'string') return { output: mapped, is_error: true };
    const sent = await this.runners.dispatch(mapped.operation, mapped.args, call.name, ctx);
    if ('output' in sent) return sent;
    if (ctx.signal.aborted) return { ...CANCELED, runner: sent.runner };
    return { ...toToolResult(call.name, sent.result), runner: sent.runner };
  }
}
