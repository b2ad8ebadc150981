import { MemoryBus } from '../../bus/memory.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';
import { EventLog } from '../event-log/index.js';
import type { ModelStepper, StepPart, StepRequest } from '../models/types.js';
import type { ToolExecutor, ToolResult } from '../../protocol/tools.js';

/**
 * In-memory stand-ins for the layers below core, for unit tests of core only (end-to-end tests use the
 * real fake model servers over HTTP and the real executor).
 */
export type FakeStep = (req: StepRequest, index: number) => StepPart[] | AsyncIterable<StepPart>;

export class FakeStepper implements ModelStepper {
  readonly requests: StepRequest[] = [];

  constructor(private readonly steps: FakeStep) {}

  async *step(req: StepRequest): AsyncIterable<StepPart> {
    this.requests.push({ ...req, messages: [...req.messages] });
    const parts = this.steps(req, this.requests.length - 1);
    for await (const part of parts as AsyncIterable<StepPart>) {
      if (req.signal.aborted) return;
      yield part;
    }
  }
}

export const usage = { input_tokens: 10, output_tokens: 5, cached_input_tokens: 0 };
export const finish: StepPart = { type: 'finish', usage, finish_reason: 'stop' };

export class FakeExecutor implements ToolExecutor {
  readonly calls: string[] = [];
  constructor(private readonly run: (name: string, args: unknown, signal: AbortSignal) => Promise<ToolResult> = async () => ({ output: 'ok', is_error: false })) {}
  specs() {
    return [{ name: 'echo', description: 'echo', parameters: { type: 'object' } }];
  }
  async execute(call: { id: string; name: string; args: unknown }, ctx: { signal: AbortSignal }): Promise<ToolResult> {
    this.calls.push(call.id);
    return this.run(call.name, call.args, ctx.signal);
  }
}

export async function memoryLog(): Promise<{ store: Store; log: EventLog }> {
  const store = openSqliteStore(':memory:');
  return { store, log: new EventLog(store, new MemoryBus()) };
}
