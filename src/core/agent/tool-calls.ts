import type { ConversationMessage, ToolCallPart } from '../../protocol/conversation.js';
import type { ToolExecutor, ToolResult } from '../tools/types.js';
import type { TurnInput } from './agent-loop.js';

export type GateDecision = { allow: true } | { allow: false; reason: string };

/** Decides whether a tool call may run. Permissions and approvals plug in here. */
export type ToolGate = (call: ToolCallPart, signal: AbortSignal) => Promise<GateDecision>;

const CANCELED: ToolResult = { output: 'canceled: the turn was interrupted before this tool finished', is_error: true };

/**
 * Runs the tool calls of one step in order and records one result per call, even for calls that never
 * ran (denied, or skipped after an interrupt), so the conversation stays valid for the model.
 * Returns false when the turn was interrupted.
 */
export async function runToolCalls(
  executor: ToolExecutor,
  input: TurnInput,
  calls: ToolCallPart[],
): Promise<boolean> {
  const { signal, writer } = input;
  for (const call of calls) {
    const result = signal.aborted ? CANCELED : await runOne(executor, input, call);
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
        data: { tool_call_id: call.id, tool: call.name, result: result.output, is_error: result.is_error },
      },
      { message },
    );
  }
  await writer.settle();
  return !signal.aborted;
}

async function runOne(executor: ToolExecutor, input: TurnInput, call: ToolCallPart): Promise<ToolResult> {
  const { signal, writer } = input;
  const gate = input.hooks?.gate;
  if (gate) {
    const decision = await gate(call, signal);
    if (signal.aborted) return CANCELED;
    if (!decision.allow) return { output: `denied: ${decision.reason}`, is_error: true };
  }
  try {
    const result = await executor.execute(
      { id: call.id, name: call.name, args: call.args },
      {
        workingDir: input.workingDir,
        signal,
        onOutput: (stream, data) => {
          writer.emit({ type: 'tool_call_output', data: { tool_call_id: call.id, stream, data } });
        },
      },
    );
    return result;
  } catch (err) {
    // Executors report tool failures as results; a throw is a bug in the executor, which the model still
    // has to hear about.
    return { output: `tool failed: ${err instanceof Error ? err.message : String(err)}`, is_error: true };
  }
}
