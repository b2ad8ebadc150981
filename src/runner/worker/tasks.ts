import type { MCPCallPayload, TaskRequestPayload } from '../../protocol/runner.js';
import { runOperation, type OpOutcome } from '../ops/index.js';
import type { OpContext } from '../ops/context.js';
import type { Logger } from './log.js';

/** How many finished task ids are remembered, so a re-sent request is not run twice. */
const REMEMBERED_TASKS = 4096;

export interface TaskSink {
  output(taskId: string, stream: 'stdout' | 'stderr', data: string): void;
  result(request: TaskRequestPayload, outcome: OpOutcome): Promise<void>;
  mcpResult(callId: string, outcome: { success: boolean; result?: unknown; error?: string }): Promise<void>;
}

/**
 * The tasks running on this runner. Each `task.request` runs once (a request for a running or recently
 * finished task id is ignored: the control plane may re-send after a reconnect, and bash is not
 * idempotent); `task.cancel` aborts it, which kills a bash command's whole process tree.
 */
export class TaskTable {
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new Set<string>();
  private readonly done = new Set<Promise<void>>();

  constructor(
    private readonly baseContext: () => Omit<OpContext, 'taskId' | 'signal' | 'onOutput'>,
    private readonly sink: TaskSink,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.running.size;
  }

  start(request: TaskRequestPayload): void {
    const id = request.task_id;
    if (this.running.has(id) || this.finished.has(id)) {
      this.log.info({ task_id: id }, 'runner: duplicate task request ignored');
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    const ctx: OpContext = {
      ...this.baseContext(),
      taskId: id,
      signal: controller.signal,
      onOutput: (stream, data) => this.sink.output(id, stream, data),
    };
    // One info line per task, at its end (with what the start line carried): at the default level each
    // line is a synchronous write to stderr, and a read is over in well under a millisecond.
    this.log.debug({ task_id: id, operation: request.operation, trace_id: request.trace_id }, 'runner: task started');
    const started = Date.now();
    const run = (async () => {
      const outcome = await runOperation(request.operation, request.args, ctx);
      this.running.delete(id);
      this.remember(id);
      this.log.info(
        { task_id: id, operation: request.operation, trace_id: request.trace_id, success: outcome.success, exit_code: outcome.exit_code, ms: Date.now() - started },
        'runner: task finished',
      );
      await this.sink.result(request, outcome);
    })().catch((err: unknown) => this.log.error({ err, task_id: id }, 'runner: task result could not be queued'));
    this.track(run);
  }

  cancel(taskId: string): boolean {
    const controller = this.running.get(taskId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  mcpCall(call: MCPCallPayload, ctx: Pick<OpContext, 'mcp'>): void {
    const run = (async () => {
      try {
        const res = await ctx.mcp.callTool(call.server, call.tool_name, call.arguments);
        await this.sink.mcpResult(call.call_id, { success: true, result: { content: res.content, ...(res.isError ? { is_error: true } : {}) } });
      } catch (err) {
        await this.sink.mcpResult(call.call_id, { success: false, error: err instanceof Error ? err.message : String(err) });
      }
    })().catch((err: unknown) => this.log.error({ err, call_id: call.call_id }, 'runner: mcp result could not be queued'));
    this.track(run);
  }

  /** Aborts every running task and waits until their results are queued. */
  async shutdown(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
    await Promise.all([...this.done]);
  }

  private track(run: Promise<void>): void {
    this.done.add(run);
    void run.finally(() => this.done.delete(run));
  }

  private remember(id: string): void {
    this.finished.add(id);
    if (this.finished.size > REMEMBERED_TASKS) {
      const oldest = this.finished.values().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}
