import { isTitleRequest } from './script.js';
import type { NormalizedMessage, ParsedRequest, ScriptResponse } from './types.js';

/** A pleasant reading pace for a demo. */
export const DEMO_TOKENS_PER_SECOND = 30;

type ToolMessage = Extract<NormalizedMessage, { role: 'tool' }>;

/**
 * The bundled script of `tower serve --demo`. For a new user message it says hello and lists the working
 * directory with the `list` tool (or, for `bash: <command>`, runs the command with `bash`); once the tool
 * results are in, it sums up what it saw. Works for any number of turns since it only reads the tail of
 * the conversation. Title requests are left to the server's automatic titles.
 */
export function demoResponder(request: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(request)) return undefined;
  const last = request.messages.at(-1);
  const paced = (response: ScriptResponse): ScriptResponse => ({ tokensPerSecond: DEMO_TOKENS_PER_SECOND, ...response });
  if (last?.role === 'tool') return paced({ text: summarize(request.messages) });
  if (last?.role !== 'user') {
    return paced({ text: "Hello! I'm Tower's demo model. Send me a message and I'll have a look around." });
  }
  const offered = new Set(request.tools.map((t) => t.name));
  const bash = /^\s*bash:\s*([\s\S]*)$/i.exec(last.text);
  if (bash) {
    const command = (bash[1] ?? '').trim();
    if (command.length === 0) return paced({ text: 'Tell me what to run, like `bash: ls -la`.' });
    if (!offered.has('bash')) return paced({ text: `I'd run \`${command}\`, but the bash tool isn't available here.` });
    return paced({ text: `Sure, running \`${command}\` for you.`, tool_calls: [{ name: 'bash', args: { command } }] });
  }
  if (!offered.has('list')) {
    return paced({ text: "Hello! I'm Tower's demo model. I'd look around, but no `list` tool is available in this session." });
  }
  return paced({
    text: "Hello! I'm Tower's demo model. Let me take a look around the working directory first.",
    tool_calls: [{ name: 'list', args: { path: '.' } }],
  });
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
