import type { ConversationMessage } from '../../protocol/conversation.js';
import { toModelMessages } from './messages.js';
import type { ResolvedLanguageModel } from './providers.js';
import type { ToolSpec } from './types.js';

/** The provider call's options (LanguageModelV2), taken from the model type so `ai`'s own version rules. */
export type StreamCallOptions = Parameters<ResolvedLanguageModel['doStream']>[0];
export type V2Prompt = StreamCallOptions['prompt'];
type V2Message = V2Prompt[number];
type V2FunctionTool = Extract<NonNullable<StreamCallOptions['tools']>[number], { type: 'function' }>;
type V2AssistantPart = Extract<V2Message, { role: 'assistant' }>['content'][number];

/**
 * Tower's conversation in the providers' own prompt format (what `streamText` would hand `doStream`):
 * the same history rules as `toModelMessages` (every tool call answered right after it), then the subset
 * of the AI SDK's `convertToLanguageModelPrompt` Tower needs: text only, no files to download.
 */
export function toV2Prompt(system: string | undefined, messages: readonly ConversationMessage[]): V2Prompt {
  const prompt: V2Prompt = system !== undefined ? [{ role: 'system', content: system }] : [];
  for (const message of toModelMessages(messages)) {
    switch (message.role) {
      case 'user':
        // toModelMessages sends user content as a plain string.
        prompt.push({ role: 'user', content: [{ type: 'text', text: typeof message.content === 'string' ? message.content : '' }] });
        break;
      case 'assistant': {
        const content: V2AssistantPart[] = [];
        for (const part of typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content) {
          if (part.type === 'text' && part.text !== '') content.push({ type: 'text', text: part.text });
          else if (part.type === 'tool-call') {
            content.push({ type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
          }
        }
        prompt.push({ role: 'assistant', content });
        break;
      }
      case 'tool':
        prompt.push({
          role: 'tool',
          content: message.content.map((part) => ({ type: 'tool-result', toolCallId: part.toolCallId, toolName: part.toolName, output: part.output })),
        });
        break;
      case 'system':
        prompt.push({ role: 'system', content: message.content });
        break;
    }
  }
  return prompt;
}

/** Function tools as the provider takes them; ToolSpec parameters are JSON Schema by contract. */
export function toV2Tools(specs: readonly ToolSpec[]): Pick<StreamCallOptions, 'tools' | 'toolChoice'> {
  if (specs.length === 0) return {};
  return {
    tools: specs.map((spec) => ({
      type: 'function' as const,
      name: spec.name,
      description: spec.description,
      inputSchema: spec.parameters as V2FunctionTool['inputSchema'],
    })),
    toolChoice: { type: 'auto' },
  };
}
