/**
 * The JSON body of an Anthropic Messages stream request, as `@ai-sdk/anthropic` builds it for the calls
 * Tower makes (`convertToAnthropicMessagesPrompt` + `getArgs` + `doStream`): same fields, same order, same
 * values (`build-request.test.ts` holds them to the provider's own). Throws `NotBuilt` for a part or
 * option it does not build.
 */
import { functionTools, nameAndDescription, need, NotBuilt, plain, resultText, schemaJson, toolInput, type WireCall, type WireMessage } from './build-parts.js';

type Block = { role: 'user' | 'assistant' | 'system'; messages: WireMessage[] };

/**
 * `maxTokens` is the provider's `max_tokens` for this model and token cap: its per-model default when
 * Tower sets no cap, clamped to the model's limit when it does (the provider's own table; Tower reads
 * the value from the model's first request, `request-plan.ts`).
 */
export function anthropicBody(modelId: string, maxTokens: number, call: WireCall): string {
  const tools = need(functionTools(call.tools));
  const { system, messages } = anthropicPrompt(call.prompt);
  // The text `JSON.stringify` makes of the provider's body object (same keys, same order), with each
  // tool's schema spliced in from its cached JSON.
  let body = `{"model":${JSON.stringify(modelId)},"max_tokens":${JSON.stringify(maxTokens)}`;
  if (system !== undefined) body += `,"system":${JSON.stringify(system)}`;
  body += `,"messages":${JSON.stringify(messages)}`;
  if (tools.length > 0) {
    const list = tools.map((tool) => `{${nameAndDescription(tool)},"input_schema":${schemaJson(tool.inputSchema)}}`);
    body += `,"tools":[${list.join(',')}]`;
    if (call.toolChoice !== undefined) body += ',"tool_choice":{"type":"auto"}';
  }
  return `${body},"stream":true}`;
}

/** Consecutive messages of one side are one Anthropic message; tool results are on the user's side. */
function blocks(prompt: readonly WireMessage[]): Block[] {
  const out: Block[] = [];
  for (const message of prompt) {
    if (!plain(message)) throw new NotBuilt();
    const role = message.role === 'tool' ? 'user' : message.role;
    const last = out.at(-1);
    if (last?.role === role) last.messages.push(message);
    else out.push({ role, messages: [message] });
  }
  return out;
}

function anthropicPrompt(prompt: readonly WireMessage[]): { system: unknown[] | undefined; messages: unknown[] } {
  let system: unknown[] | undefined;
  const messages: unknown[] = [];
  const all = blocks(prompt);
  all.forEach((block, index) => {
    if (block.role === 'system') {
      // A system block after the first one is a mid-conversation system message (a beta): not built.
      if (index !== 0) throw new NotBuilt();
      system = block.messages.map((message) => ({ type: 'text', text: message.role === 'system' ? message.content : '' }));
    } else if (block.role === 'user') messages.push({ role: 'user', content: userContent(block.messages) });
    else messages.push({ role: 'assistant', content: assistantContent(block.messages, index === all.length - 1) });
  });
  return { system, messages };
}

function userContent(messages: readonly WireMessage[]): unknown[] {
  const content: unknown[] = [];
  for (const message of messages) {
    if (message.role === 'user') {
      for (const part of message.content) {
        if (part.type !== 'text' || !plain(part)) throw new NotBuilt();
        content.push({ type: 'text', text: part.text });
      }
    } else if (message.role === 'tool') {
      for (const part of message.content) {
        const text = need(resultText(part));
        content.push(
          part.output.type === 'error-text'
            ? { type: 'tool_result', tool_use_id: part.toolCallId, content: text, is_error: true }
            : { type: 'tool_result', tool_use_id: part.toolCallId, content: text },
        );
      }
    }
  }
  return content;
}

/**
 * The block's text and tool uses, tool uses after the text (`moveToolUseBlocksToEnd`; there are no
 * thinking blocks to keep in place: reasoning without the provider's signature is not sent). The last
 * text of a conversation that ends on the assistant's side is trimmed, as the provider does (Anthropic
 * refuses trailing whitespace in a prefilled answer).
 */
function assistantContent(messages: readonly WireMessage[], lastBlock: boolean): unknown[] {
  const texts: unknown[] = [];
  const uses: unknown[] = [];
  messages.forEach((message, m) => {
    if (message.role !== 'assistant') throw new NotBuilt();
    const { content } = message;
    content.forEach((part, k) => {
      if (!plain(part)) throw new NotBuilt();
      if (part.type === 'text') {
        const last = lastBlock && m === messages.length - 1 && k === content.length - 1;
        texts.push({ type: 'text', text: last ? part.text.trim() : part.text });
      } else if (part.type === 'tool-call') {
        uses.push({ type: 'tool_use', id: part.toolCallId, name: part.toolName, input: need(toolInput(part)) });
      } else if (part.type !== 'reasoning') throw new NotBuilt();
    });
  });
  return texts.length === 0 ? uses : uses.length === 0 ? texts : [...texts, ...uses];
}
