import type { NormalizedMessage, OfferedTool, ScriptResponse } from './types.js';

/** A pleasant reading pace for a demo. */
export const DEMO_TOKENS_PER_SECOND = 30;
/** The `steer` answer streams slowly, so there is time to steer it. */
export const STEER_TOKENS_PER_SECOND = 3;
/** How many seconds the `long` command runs (one output line a second). */
export const LONG_SECONDS = 20;

/** The schema of the `ask` question: small enough to answer in one line, typed enough to show a form. */
export const ASK_SCHEMA = {
  type: 'object',
  properties: {
    color: { type: 'string', enum: ['red', 'green', 'blue'], description: 'your favourite of the three' },
    reason: { type: 'string', description: 'why (optional)' },
  },
  required: ['color'],
} as const;

export const APPROVE_COMMAND = 'echo "this command ran because you approved it"';
export const LONG_COMMAND = `for i in $(seq 1 ${LONG_SECONDS}); do echo "step $i of ${LONG_SECONDS}"; sleep 1; done`;

/** What `help` answers: every trigger, with the command that plays its part. */
export const HELP_TEXT = [
  "I'm Tower's demo model: scripted, free, no API key. Start a message with one of these words:",
  '',
  '- `help`: this list.',
  '- `hello` (or anything not below): a text answer and a tool call; I list the working directory.',
  '- `think <question>`: reasoning first (shown dimmed), then the answer.',
  '- `bash: <command>`: runs the command with the bash tool. Tower asks you to approve it first.',
  '- `approve`: a harmless command that waits for your approval. Answer at the prompt (a / r), or with',
  '  `tower approve <session> <call id>` / `tower reject <session> <call id> --reason "..."`.',
  '- `ask`: a question with a small form (the ask_user tool). Answer at the prompt, or with',
  '  `tower answer <session> <question id> green`.',
  `- \`long\`: a ${LONG_SECONDS}-second bash command with live output (after your approval). Stop it with`,
  '  `tower interrupt <session>`.',
  '- `steer`: a slow answer. While it streams, `tower steer <session> "go left"` and I take it up in the',
  '  same turn; `tower followup <session> "..."` queues a message for after it.',
].join('\n');

const STEER_TEXT =
  "I'm answering slowly on purpose, so you have time to steer me. Counting: one, two, three, four, five, six, " +
  'seven, eight, nine, ten, eleven, twelve, thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, ' +
  'twenty. Done counting.';

export type Trigger = 'help' | 'think' | 'bash' | 'approve' | 'ask' | 'long' | 'steer' | 'hello';

/** The trigger a user message starts with (`hello` when it starts with none of them). */
export function triggerOf(text: string): { trigger: Trigger; rest: string } {
  const bash = /^\s*bash:\s*([\s\S]*)$/i.exec(text);
  if (bash) return { trigger: 'bash', rest: (bash[1] ?? '').trim() };
  const match = /^\s*([a-z]+)\b[\s:,.!?]*([\s\S]*)$/i.exec(text);
  const word = match?.[1]?.toLowerCase() ?? '';
  const rest = (match?.[2] ?? '').trim();
  const known: Record<string, Trigger> = { help: 'help', think: 'think', approve: 'approve', ask: 'ask', long: 'long', steer: 'steer' };
  return { trigger: known[word] ?? 'hello', rest };
}

/** The first step's answer to a user message that starts a turn. */
export function respondToTrigger(text: string, tools: OfferedTool[]): ScriptResponse {
  const offered = new Set(tools.map((tool) => tool.name));
  const { trigger, rest } = triggerOf(text);
  const needs = (tool: string, what: string): ScriptResponse | undefined =>
    offered.has(tool) ? undefined : { text: `I'd ${what}, but the ${tool} tool isn't available here.` };
  switch (trigger) {
    case 'help':
      return { text: HELP_TEXT };
    case 'think':
      return {
        reasoning:
          `The person asked me to think${rest ? ` about "${rest}"` : ''}. I am a scripted model, so my reasoning ` +
          'is scripted too, but it streams as reasoning parts, the way a real reasoning model sends them.',
        text: rest ? `Having thought about "${rest}": that is a fine question for a real model.` : 'I thought about it. Ask me `think <question>` next time.',
      };
    case 'bash':
      if (rest.length === 0) return { text: 'Tell me what to run, like `bash: ls -la`.' };
      return needs('bash', `run \`${rest}\``) ?? { text: `Sure, running \`${rest}\` for you.`, tool_calls: [{ name: 'bash', args: { command: rest } }] };
    case 'approve':
      return needs('bash', 'run a command') ?? {
        text: 'This command needs your approval before it runs.',
        tool_calls: [{ name: 'bash', args: { command: APPROVE_COMMAND } }],
      };
    case 'ask':
      return needs('ask_user', 'ask you something') ?? {
        text: 'I have a question for you.',
        tool_calls: [{ name: 'ask_user', args: { message: 'Which colour do you like best: red, green or blue?', schema: ASK_SCHEMA } }],
      };
    case 'long':
      return needs('bash', 'run a long command') ?? {
        text: `This runs for ${LONG_SECONDS} seconds, printing a line a second; \`tower interrupt <session>\` stops it.`,
        tool_calls: [{ name: 'bash', args: { command: LONG_COMMAND, timeout: LONG_SECONDS + 10 } }],
      };
    case 'steer':
      return { text: STEER_TEXT, tokensPerSecond: STEER_TOKENS_PER_SECOND };
    case 'hello':
      return needs('list', 'look around') ?? {
        text: "Hello! I'm Tower's demo model (send `help` to see everything I can show). Let me take a look around the working directory first.",
        tool_calls: [{ name: 'list', args: { path: '.' } }],
      };
  }
}

/**
 * A user message right after an answer to `steer`, with no user message between: it was steered into the
 * running turn (a new turn would also look like this, and gets the same friendly answer).
 */
export function steeredAfter(messages: NormalizedMessage[]): string | undefined {
  const last = messages.at(-1);
  const before = messages.at(-2);
  const asked = messages.at(-3);
  if (last?.role !== 'user' || before?.role !== 'assistant' || asked?.role !== 'user') return undefined;
  return triggerOf(asked.text).trigger === 'steer' ? last.text : undefined;
}
