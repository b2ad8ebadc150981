/**
 * The JSON body of an OpenAI Chat Completions stream request, as `@ai-sdk/openai`'s chat model
 * (`openai`) or `@ai-sdk/openai-compatible`'s (`openai-compatible`) builds it for the calls Tower makes:
 * same fields, same order, same values (`build-request.test.ts` holds them to the providers' own).
 * Throws `NotBuilt` for a part or option it does not build.
 */
import { functionTools, nameAndDescription, need, NotBuilt, plain, resultText, schemaJson, toolInput, type WireCall, type WireMessage } from './build-parts.js';

export type ChatFlavor = 'openai' | 'openai-compatible';

/**
 * OpenAI's reasoning models (o-series, gpt-5 and later except the `chat` variants, codex-mini,
 * computer-use) take the system prompt as a `developer` message and the token cap as
 * `max_completion_tokens`: the rule of the provider's `getOpenAILanguageModelCapabilities`.
 */
export function isOpenAIReasoningModel(modelId: string): boolean {
  if (/^o\d+(?:-|$)/.test(modelId) || modelId === 'codex-mini-latest' || modelId === 'computer-use-preview') return true;
  const gpt = /^gpt-(\d+)(?:\.(\d+))?(?:-(.+))?$/.exec(modelId);
  if (gpt === null || Number(gpt[1]) < 5) return false;
  const chatVariant = gpt[2] === undefined && (gpt[3]?.startsWith('chat') ?? false);
  return !chatVariant;
}

export function openAIChatBody(flavor: ChatFlavor, modelId: string, call: WireCall): string {
  const reasoning = flavor === 'openai' && isOpenAIReasoningModel(modelId);
  const tools = need(functionTools(call.tools));
  // The text `JSON.stringify` makes of the provider's body object (same keys, same order), with each
  // tool's schema spliced in from its cached JSON.
  let body = `{"model":${JSON.stringify(modelId)}`;
  if (call.maxOutputTokens !== undefined) body += `,"${reasoning ? 'max_completion_tokens' : 'max_tokens'}":${JSON.stringify(call.maxOutputTokens)}`;
  body += `,"messages":${JSON.stringify(chatMessages(flavor, reasoning ? 'developer' : 'system', call.prompt))}`;
  if (tools.length > 0) {
    const strict = flavor === 'openai' ? ',"strict":false' : '';
    const list = tools.map((tool) => `{"type":"function","function":{${nameAndDescription(tool)},"parameters":${schemaJson(tool.inputSchema)}${strict}}}`);
    body += `,"tools":[${list.join(',')}]`;
    if (call.toolChoice !== undefined) body += `,"tool_choice":${JSON.stringify(call.toolChoice.type)}`;
  }
  // Both providers ask for usage in streams (Tower creates openai-compatible ones with `includeUsage`).
  return `${body},"stream":true,"stream_options":{"include_usage":true}}`;
}

function chatMessages(flavor: ChatFlavor, systemRole: 'system' | 'developer', prompt: readonly WireMessage[]): unknown[] {
  const messages: unknown[] = [];
  for (const message of prompt) {
    if (!plain(message)) throw new NotBuilt();
    switch (message.role) {
      case 'system':
        messages.push({ role: systemRole, content: message.content });
        break;
      case 'user': {
        const { content } = message;
        for (const part of content) if (part.type !== 'text' || !plain(part)) throw new NotBuilt();
        const only = content[0];
        if (content.length === 1 && only?.type === 'text') messages.push({ role: 'user', content: only.text });
        else messages.push({ role: 'user', content: content.map((part) => ({ type: 'text', text: part.type === 'text' ? part.text : '' })) });
        break;
      }
      case 'assistant': {
        let text = '';
        let reasoning = '';
        const calls: unknown[] = [];
        for (const part of message.content) {
          if (!plain(part)) throw new NotBuilt();
          if (part.type === 'text') text += part.text;
          else if (part.type === 'reasoning') reasoning += part.text; // OpenAI's chat model drops it
          else if (part.type === 'tool-call') {
            const input = need(toolInput(part));
            calls.push({ id: part.toolCallId, type: 'function', function: { name: part.toolName, arguments: JSON.stringify(input) } });
          } else throw new NotBuilt();
        }
        const out: Record<string, unknown> = { role: 'assistant', content: calls.length > 0 ? text || null : text };
        if (flavor === 'openai-compatible' && reasoning.length > 0) out.reasoning_content = reasoning;
        if (calls.length > 0) out.tool_calls = calls;
        messages.push(out);
        break;
      }
      case 'tool':
        for (const part of message.content) {
          messages.push({ role: 'tool', tool_call_id: part.toolCallId, content: need(resultText(part)) });
        }
        break;
    }
  }
  return messages;
}
