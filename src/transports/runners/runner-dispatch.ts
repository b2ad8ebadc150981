import type { Logger } from '../../core/logger.js';
import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import type { ToolContext, ToolResult } from '../../protocol/tools.js';
import type { RunnerGateway } from './gateway.js';
import type { RunnerInfo } from './registry.js';

export interface RunnerDispatchOptions {
  gateway: RunnerGateway;
  /** A runner must carry all of these. */
  labels: readonly string[];
  /** How long a call waits for a matching runner to come online. */
  waitMs: number;
  /** Told when a call found no runner (the session log gets an `error` event with code `no_runner`). */
  onNoRunner: (message: string) => void;
  logger: Logger;
}

export const CANCELED: ToolResult = { output: 'canceled: the turn was interrupted before this tool finished', is_error: true };

export type Dispatched = { result: TaskResultPayload; runner: { id: string; name: string } } | ToolResult;

/** Sends a session's operations (tool calls, MCP) to runners by labels, least busy first, waiting for one. */
export class RunnerDispatcher {
  constructor(readonly opts: RunnerDispatchOptions) {}

  /**
   * Sends one operation to the least busy matching runner, waiting up to `waitMs` for one; a tool result
   * (no runner, could not send, canceled) when it did not run there. Also used for MCP operations.
   */
  async dispatch(
    operation: TaskOperation,
    args: unknown,
    what: string,
    ctx: Pick<ToolContext, 'signal' | 'onOutput'>,
  ): Promise<Dispatched> {
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
      try {
        const result = await this.opts.gateway.dispatch(runner.id, operation, args, {
          signal: ctx.signal,
          ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
        });
        return { result, runner: { id: runner.id, name: runner.name } };
      } catch (err) {
        // Bounded: the registry and the connections agree, so this is a race with a disconnect, not a loop.
        if (attempt >= 3) return { output: `could not send ${what} to a runner: ${err instanceof Error ? err.message : String(err)}`, is_error: true };
        this.opts.logger.debug({ err, runner_id: runner.id }, 'runner left before the task was sent; picking again');
      }
    }
  }

  /** The least busy matching runner online, waiting for one until `deadline`; null when none came. */
  private pick(deadline: number, signal: AbortSignal): Promise<RunnerInfo | null> {
    const { gateway, labels } = this.opts;
    const now = gateway.registry.candidates(labels)[0];
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (value: RunnerInfo | null): void => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = (): void => done(null);
      const timer = setTimeout(() => done(gateway.registry.candidates(labels)[0] ?? null), Math.max(0, deadline - Date.now()));
      const off = gateway.onEvent(() => {
        const found = gateway.registry.candidates(labels)[0];
        if (found) done(found);
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
