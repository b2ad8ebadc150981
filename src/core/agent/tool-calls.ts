import type { ConversationMessage, ToolCallPart } from '../../protocol/conversation.js';
import type { RunnerRef, ToolExecutor, ToolResult } from '../../protocol/tools.js';
import type { GateDecision, TurnInput } from './turn-types.js';

const CANCELED: ToolResult = { output: 'canceled: the turn was interrupted before this tool finished', is_error: true };

/**
 * Runs the tool calls of one step and records one result per call, even for calls that never ran
 * (denied, or skipped after an interrupt), so the conversation stays valid for the model.
 *
 * All calls are gated first, at once: several confirmations can be pending together and answered in any
 * order. Approved calls then run one after another, in the order the model asked for them.
 * Returns false when the turn was interrupted.
 */
export async function runToolCalls(
  executor: ToolExecutor,
  input: TurnInput,
  calls: ToolCallPart[],
  invalid: ReadonlyMap<string, string> = new Map(),
  placements: ReadonlyMap<string, RunnerRef> = new Map(),
): Promise<boolean> {
  const { signal, writer } = input;
  // A call with refused arguments is not gated: nobody should be asked to approve what cannot run.
  const decisions = signal.aborted
    ? []
    : await Promise.all(calls.map((call) => (invalid.has(call.id) ? { allow: true as const } : decide(input, call))));
  for (const [i, call] of calls.entries()) {
    const decision = decisions[i] ?? { allow: false, reason: 'canceled' };
    const refused = invalid.get(call.id);
    const result = signal.aborted
      ? CANCELED
      : refused !== undefined
        ? { output: refused, is_error: true }
        : decision.allow
        ? await execute(executor, input, call, placements.get(call.id))
        : { output: `denied: ${decision.reason}`, is_error: true };
    const message: ConversationMessage = {
      role: 'tool',
      tool_call_id: call.id,
      tool_name: call.name,
      content: result.output,
      is_error: result.is_error,
    };
    input.conversation.push(message);
    writer.emit(
      {
        type: 'tool_call_response',
        data: { tool_call_id: call.id, tool: call.name, result: result.output, is_error: result.is_error, ...(result.runner ? { runner: result.runner } : {}) },
      },
      { message },
    );
  }
  await writer.settle();
  return !signal.aborted;
}

async function decide(input: TurnInput, call: ToolCallPart): Promise<GateDecision> {
  const gate = input.hooks?.gate;
  if (!gate) return { allow: true };
  try {
    return await gate(call, input.signal);
  } catch (err) {
    // An abort while waiting for a person: the call is recorded as canceled by the caller.
    if (input.signal.aborted) return { allow: false, reason: 'canceled' };
    return { allow: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

async function execute(executor: ToolExecutor, input: TurnInput, call: ToolCallPart, runner: RunnerRef | undefined): Promise<ToolResult> {
  const { signal, writer } = input;
  const sessionTools = input.hooks?.sessionTools;
  const target = sessionTools?.specs().some((s) => s.name === call.name) ? sessionTools : executor;
  try {
    return await target.execute(
      { id: call.id, name: call.name, args: call.args, ...(runner && target === executor ? { runner } : {}) },
      {
        ...input.toolContext,
        workingDir: input.workingDir,
        signal,
        onOutput: (stream, data) => {
          writer.emit({ type: 'tool_call_output', data: { tool_call_id: call.id, stream, data } });
        },
      },
    );
  } catch (err) {
    if (signal.aborted) return CANCELED;
    // Executors report tool failures as results; a throw is a bug in the executor, which the model still
    // has to hear about.
    return { output: `tool failed: ${err instanceof Error ? err.message : String(err)}`, is_error: true };
  }
}
