import { DEMO_TOKENS_PER_SECOND, respondToTrigger, steeredAfter } from './demo-triggers.js';
import { isTitleRequest } from './script.js';
import type { NormalizedMessage, ParsedRequest, ScriptResponse } from './types.js';

export { DEMO_TOKENS_PER_SECOND };

type ToolMessage = Extract<NormalizedMessage, { role: 'tool' }>;

/**
 * The bundled script of `tower serve --demo`: every feature of Tower can be seen with it. A user message
 * starting with a trigger word (`help` lists them, see demo-triggers.ts) gets text, reasoning, a tool
 * call, an approval, a question, a long command or a slow answer to steer; once tool results are in, it
 * sums up what it saw. It only reads the tail of the conversation, so it works for any number of turns.
 * Title requests are left to the server's automatic titles.
 */
export function demoResponder(request: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(request)) return undefined;
  const last = request.messages.at(-1);
  const paced = (response: ScriptResponse): ScriptResponse => ({ tokensPerSecond: DEMO_TOKENS_PER_SECOND, ...response });
  if (last?.role === 'tool') return paced({ text: summarize(request.messages) });
  if (last?.role !== 'user') {
    return paced({ text: "Hello! I'm Tower's demo model. Send me `help` to see what I can show you." });
  }
  const steered = steeredAfter(request.messages);
  if (steered !== undefined) {
    return paced({ text: `You steered me: "${steered}". I took it in the same turn, before my next step. Send \`help\` for more.` });
  }
  return paced(respondToTrigger(last.text, request.tools));
}

/** The final answer of a turn: one paragraph per tool result since the last assistant message. */
function summarize(messages: NormalizedMessage[]): string {
  const results: ToolMessage[] = [];
  let i = messages.length - 1;
  for (; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== 'tool') break;
    results.unshift(message);
  }
  const assistant = messages[i];
  const calls = assistant?.role === 'assistant' ? assistant.tool_calls : [];
  const paragraphs = results.map((result) => {
    const call = calls.find((c) => c.id === result.tool_call_id);
    return describeResult(call?.name ?? 'tool', call?.args, result);
  });
  paragraphs.push('Anything else you would like me to look at?');
  return paragraphs.join('\n\n');
}

function describeResult(name: string, args: unknown, result: ToolMessage): string {
  const output = result.text.trim();
  if (result.is_error === true) return `The ${name} tool reported a problem: ${firstLine(output)}`;
  if (name === 'list') {
    const entries = listEntries(output);
    if (entries.length === 0) return 'I looked around: the working directory is empty.';
    const shown = entries.slice(0, 5).join(', ');
    const more = entries.length > 5 ? ` and ${entries.length - 5} more` : '';
    return `I looked around: the working directory holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}: ${shown}${more}.`;
  }
  if (name === 'ask_user') return describeAnswer(output);
  if (name === 'bash') {
    const command = isObject(args) && typeof args.command === 'string' ? args.command : 'the command';
    if (output.length === 0) return `I ran \`${command}\`; it printed nothing.`;
    const lines = output.split('\n');
    const excerpt = lines.slice(0, 20).join('\n');
    const rest = lines.length > 20 ? `\n(${lines.length - 20} more lines)` : '';
    return `I ran \`${command}\`. It printed:\n\n\`\`\`\n${excerpt}\n\`\`\`${rest}`;
  }
  const lineCount = output.length === 0 ? 0 : output.split('\n').length;
  return `The ${name} tool returned ${lineCount} ${lineCount === 1 ? 'line' : 'lines'}.`;
}

/** The `ask_user` result: `{"action": "accept", "content": {…}}`, or a decline or cancel. */
function describeAnswer(output: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    return `You answered: ${firstLine(output)}`;
  }
  if (!isObject(parsed) || parsed.action !== 'accept') {
    const action = isObject(parsed) && typeof parsed.action === 'string' ? parsed.action : 'no answer';
    return `You did not answer (${action}); fine, I carry on without it.`;
  }
  const content = isObject(parsed.content) ? parsed.content : {};
  const color = typeof content.color === 'string' ? content.color : undefined;
  const reason = typeof content.reason === 'string' && content.reason !== '' ? ` because ${content.reason}` : '';
  return color ? `You picked ${color}${reason}. Good choice.` : `You answered: ${JSON.stringify(content)}`;
}

/** Entry names from a `list` result, whether it is JSON (an array, or `{entries}`) or one name a line. */
function listEntries(output: string): string[] {
  try {
    const parsed: unknown = JSON.parse(output);
    const items = Array.isArray(parsed) ? parsed : isObject(parsed) && Array.isArray(parsed.entries) ? parsed.entries : undefined;
    if (items) return items.map(entryName);
  } catch {
    // Not JSON: plain text, one entry a line.
  }
  return output.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
}

function entryName(item: unknown): string {
  if (typeof item === 'string') return item;
  if (isObject(item)) {
    const name = item.name ?? item.path;
    if (typeof name === 'string') return name;
  }
  return JSON.stringify(item);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
