import { Option, type Command } from 'commander';
import type { ApprovalScope } from '../../client/index.js';
import type { ElicitationAction } from '../../protocol/index.js';
import { jsonContent, textContent, type ContentResult } from '../answer-content.js';
import { createContext, printJson, type CommandContext, type CommandRunner } from '../context.js';
import { UsageError } from '../errors.js';
import type { CliIO } from '../io.js';

interface ApproveOptions {
  tool?: boolean;
  session?: boolean;
}

const SCOPE_NOTE: Record<ApprovalScope, string> = {
  call: '',
  tool: ' and its tool from now on',
  session: ' and every call of the session from now on',
};

async function approve(ctx: CommandContext, sessionId: string, toolCallId: string, options: ApproveOptions): Promise<number> {
  const scope: ApprovalScope = options.tool ? 'tool' : options.session ? 'session' : 'call';
  const result = await ctx.client.approve(sessionId, toolCallId, scope);
  if (ctx.json) printJson(ctx, result);
  else ctx.io.stdout.write(`${ctx.out.green('✓')} approved ${toolCallId}${SCOPE_NOTE[scope]}\n`);
  return 0;
}

async function reject(ctx: CommandContext, sessionId: string, toolCallId: string, options: { reason?: string }): Promise<number> {
  const result = await ctx.client.reject(sessionId, toolCallId, options.reason);
  if (ctx.json) printJson(ctx, result);
  else ctx.io.stdout.write(`${ctx.out.red('✗')} rejected ${toolCallId}\n`);
  return 0;
}

interface AnswerOptions {
  decline?: boolean;
  cancel?: boolean;
  jsonContent?: string;
}

const ANSWERED: Record<ElicitationAction, string> = { accept: 'answered', decline: 'declined', cancel: 'canceled' };

/** The content of an accepting answer: `--json-content` as given, or text shaped by the question's schema. */
async function acceptContent(
  ctx: CommandContext,
  sessionId: string,
  elicitationId: string,
  text: string,
  json: string | undefined,
): Promise<ContentResult> {
  if (json !== undefined) {
    if (text !== '') throw new UsageError('give the answer as text or as --json-content, not both');
    return jsonContent(json);
  }
  if (text === '') throw new UsageError('give the answer as text or --json-content, or pass --decline or --cancel');
  // The schema decides which field a text answer fills; an unknown question gets `{answer}` and the
  // server's verdict (not_found).
  const pending = (await ctx.client.status(sessionId)).pending_elicitations.find((p) => p.elicitation_id === elicitationId);
  return textContent(text, pending?.schema);
}

async function answer(
  ctx: CommandContext,
  sessionId: string,
  elicitationId: string,
  words: string[],
  options: AnswerOptions,
): Promise<number> {
  const text = words.join(' ');
  const action: ElicitationAction = options.decline ? 'decline' : options.cancel ? 'cancel' : 'accept';
  let content: Record<string, unknown> | undefined;
  if (action !== 'accept') {
    if (text !== '' || options.jsonContent !== undefined) throw new UsageError(`--${action} takes no answer`);
  } else {
    const result = await acceptContent(ctx, sessionId, elicitationId, text, options.jsonContent);
    if (!result.ok) throw new UsageError(result.message);
    content = result.content;
  }
  const resolved = await ctx.client.answerElicitation(sessionId, elicitationId, action, content);
  if (ctx.json) printJson(ctx, resolved);
  else ctx.io.stdout.write(`${ANSWERED[action]} ${elicitationId}\n`);
  return 0;
}

/** `tower approve|reject|answer`: answering what a session asks a person. */
export function registerAnswers(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('approve')
    .description('approve a tool call waiting for confirmation')
    .argument('<session>', 'session id')
    .argument('<tool_call_id>', 'the id in the "approval needed" line')
    .addOption(new Option('--tool', 'also approve later calls of the same tool').conflicts('session'))
    .addOption(new Option('--session', 'also approve every later call of the session (autonomous)'))
    .action((sessionId: string, toolCallId: string, options: ApproveOptions, command: Command) =>
      run(() => approve(createContext(command, io), sessionId, toolCallId, options)),
    );

  program
    .command('reject')
    .description('reject a tool call waiting for confirmation')
    .argument('<session>', 'session id')
    .argument('<tool_call_id>', 'the id in the "approval needed" line')
    .option('--reason <text>', 'told to the model')
    .action((sessionId: string, toolCallId: string, options: { reason?: string }, command: Command) =>
      run(() => reject(createContext(command, io), sessionId, toolCallId, options)),
    );

  program
    .command('answer')
    .description('answer a question the agent asked')
    .argument('<session>', 'session id')
    .argument('<elicitation_id>', 'the id in the "question" line')
    .argument('[text...]', 'the answer (words are joined by spaces)')
    .addOption(new Option('--decline', 'decline to answer').conflicts(['cancel', 'jsonContent']))
    .addOption(new Option('--cancel', 'cancel the question').conflicts('jsonContent'))
    .option('--json-content <json>', 'the answer as a JSON object, for questions with several fields')
    .addHelpText(
      'after',
      '\nA text answer fills the question\'s one field (its only required property, converted to its type),\n' +
        'or becomes {"answer": text} when the question has no schema. Questions with several fields need\n' +
        '--json-content \'{"field": …}\'.\n',
    )
    .action((sessionId: string, elicitationId: string, words: string[], options: AnswerOptions, command: Command) =>
      run(() => answer(createContext(command, io), sessionId, elicitationId, words, options)),
    );
}
