import type { Logger } from '../../core/logger.js';
import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import type { ToolResult } from '../../protocol/tools.js';
import type { RunnerGateway } from './gateway.js';
import type { RunnerInfo } from './registry.js';

export interface RunnerDispatchOptions {
  gateway: Pick<RunnerGateway, 'registry' | 'dispatch' | 'onEvent'>;
  /** A runner must carry all of these. */
  labels: readonly string[];
  /** How long an operation waits for a matching runner to come online. */
  waitMs: number;
  /** Told when an operation found no runner (the session log gets an `error` event with code `no_runner`). */
  onNoRunner: (message: string) => void;
  logger: Logger;
}

export type Dispatched = { result: TaskResultPayload; runner: { id: string; name: string } } | ToolResult;

const SEND_ATTEMPTS = 3;

/**
 * Resolves with the least busy runner carrying `labels` once one is online (re-checked on every gateway
 * event), or null at `deadline` or on abort.
 */
export function waitForRunner(
  gateway: Pick<RunnerGateway, 'registry' | 'onEvent'>,
  labels: readonly string[],
  deadline: number,
  signal: AbortSignal,
): Promise<RunnerInfo | null> {
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

/**
 * Sends a session's MCP operations (`mcp_list_tools`, `mcp_call`) to a runner by labels, least busy first,
 * waiting up to `waitMs` for one, as the session's tool calls are.
 */
export class RunnerDispatcher {
  constructor(readonly opts: RunnerDispatchOptions) {}

  /** A tool result instead of a task result when it did not run on a runner (none came, could not send, aborted). */
  async dispatch(operation: TaskOperation, args: unknown, what: string, signal: AbortSignal): Promise<Dispatched> {
    const { gateway, labels, waitMs } = this.opts;
    const deadline = Date.now() + waitMs;
    let sendError = '';
    // A runner picked can vanish before the frame goes out: pick again, a bounded number of times.
    for (let tries = 0; tries < SEND_ATTEMPTS; tries++) {
      const runner = gateway.registry.candidates(labels)[0] ?? (await waitForRunner(gateway, labels, deadline, signal));
      if (signal.aborted) return { output: `canceled: ${what} was interrupted`, is_error: true };
      if (runner === null) {
        const message = `no runner with labels [${labels.join(', ')}] came online within ${Math.round(waitMs / 100) / 10} s; ${what} did not run`;
        this.opts.onNoRunner(message);
        return { output: message, is_error: true };
      }
      try {
        return { result: await gateway.dispatch(runner.id, operation, args, { signal }), runner: { id: runner.id, name: runner.name } };
      } catch (err) {
        sendError = err instanceof Error ? err.message : String(err);
        this.opts.logger.debug({ err, runner_id: runner.id }, 'runner left before the MCP task was sent; picking again');
      }
    }
    return { output: `could not send ${what} to a runner: ${sendError}`, is_error: true };
  }
}
