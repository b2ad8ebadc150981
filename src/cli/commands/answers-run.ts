import type { ApprovalScope } from '../../client/index.js';
import type { ElicitationAction } from '../../protocol/index.js';
import { jsonContent, textContent, type ContentResult } from '../answer-content.js';
import { printJson, type CommandContext } from '../context.js';
import { UsageError } from '../errors.js';

export interface ApproveOptions {
  tool?: boolean;
  session?: boolean;
}

const SCOPE_NOTE: Record<ApprovalScope, string> = {
  call: '',
  tool: ' and its tool from now on',
  session: ' and every call of the session from now on',
};

export async function approve(ctx: CommandContext, sessionId: string, toolCallId: string, options: ApproveOptions): Promise<number> {
  const scope: ApprovalScope = options.tool ? 'tool' : options.session ? 'session' : 'call';
  const result = await ctx.client.approve(sessionId, toolCallId, scope);
  if (ctx.json) printJson(ctx, result);
  else ctx.io.stdout.write(`${ctx.out.green('✓')} approved ${toolCallId}${SCOPE_NOTE[scope]}\n`);
  return 0;
}

export async function reject(ctx: CommandContext, sessionId: string, toolCallId: string, options: { reason?: string }): Promise<number> {
  const result = await ctx.client.reject(sessionId, toolCallId, options.reason);
  if (ctx.json) printJson(ctx, result);
  else ctx.io.stdout.write(`${ctx.out.red('✗')} rejected ${toolCallId}\n`);
  return 0;
}

export interface AnswerOptions {
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

export async function answer(
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
