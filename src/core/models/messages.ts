import type { AssistantModelMessage, ModelMessage, ToolModelMessage } from 'ai';
import type { ConversationMessage } from '../../protocol/conversation.js';
import { isRecord } from '../../protocol/guards.js';

type ToolMessage = Extract<ConversationMessage, { role: 'tool' }>;
type ToolResultPart = ToolModelMessage['content'][number];

/** What the model reads for a tool call that never got a result (the turn stopped first). */
export const MISSING_TOOL_RESULT = 'The tool call did not complete: the turn was stopped before it returned a result.';

/**
 * Converts Tower's conversation to AI SDK messages. Providers reject histories where a tool call has no
 * result right after it, or a result has no call, and Tower's history can hold both after an interrupt
 * or a steer. So each assistant message with tool calls is followed by exactly one tool message with a
 * result per call: the recorded one wherever it sits, else an error result. Results are never emitted
 * elsewhere. Reasoning is not sent back: providers need their own signatures for it and reject it
 * otherwise.
 */
export function toModelMessages(messages: readonly ConversationMessage[]): ModelMessage[] {
  const results = new Map<string, ToolMessage>();
  for (const message of messages) {
    if (message.role === 'tool' && !results.has(message.tool_call_id)) results.set(message.tool_call_id, message);
  }
  const out: ModelMessage[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      out.push({ role: 'user', content: message.content });
    } else if (message.role === 'assistant') {
      const assistant = toAssistant(message);
      if (!assistant) continue;
      out.push(assistant);
      const calls = message.tool_calls ?? [];
      if (calls.length > 0) {
        out.push({ role: 'tool', content: calls.map((call) => toolResult(call.id, call.name, results.get(call.id))) });
      }
    }
  }
  return out;
}

function toAssistant(message: Extract<ConversationMessage, { role: 'assistant' }>): AssistantModelMessage | undefined {
  const content: Exclude<AssistantModelMessage['content'], string> = [];
  // Empty text blocks are rejected by Anthropic; an interrupted message may have none.
  if (message.content.length > 0) content.push({ type: 'text', text: message.content });
  for (const call of message.tool_calls ?? []) {
    content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: toolInput(call.args) });
  }
  return content.length > 0 ? { role: 'assistant', content } : undefined;
}

/**
 * Tool inputs must be JSON objects for Anthropic; a model that produced unparseable arguments left a raw
 * string behind, which is kept visible to the model under `input`.
 */
function toolInput(args: unknown): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (isRecord(args)) return args;
  return { input: args };
}

function toolResult(id: string, name: string, result: ToolMessage | undefined): ToolResultPart {
  const output = result
    ? { type: result.is_error ? ('error-text' as const) : ('text' as const), value: result.content }
    : { type: 'error-text' as const, value: MISSING_TOOL_RESULT };
  return { type: 'tool-result', toolCallId: id, toolName: result?.tool_name ?? name, output };
}
