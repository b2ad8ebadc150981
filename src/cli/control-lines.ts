import type { ConfirmationDecision, ElicitationAction, Permissions, QueueName } from '../protocol/index.js';
import type { Colors } from './color.js';
import { summarizeArgs, truncate } from './tool-lines.js';

/** Lines for requests to a person (approvals, questions), their answers, and queue and session control. */

const TEXT_WIDTH = 100;

function oneLine(text: string): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), TEXT_WIDTH);
}

export interface ConfirmationRequest {
  tool_call_id: string;
  tool: string;
  args: unknown;
}

/** `⏸ approval needed: bash git push (id call_1) — tower approve ses_1 call_1` */
export function formatConfirmationRequest(c: Colors, sessionId: string, request: ConfirmationRequest): string {
  const summary = summarizeArgs(request.args);
  const id = request.tool_call_id;
  return (
    `${c.yellow('⏸ approval needed:')} ${c.bold(request.tool)}${summary ? ` ${summary}` : ''} ` +
    c.dim(`(id ${id}) — tower approve ${sessionId} ${id}`)
  );
}

export interface QuestionRequest {
  elicitation_id: string;
  message: string;
}

/** `❓ question: Which branch? (id el_1) — tower answer ses_1 el_1 <answer>` */
export function formatQuestion(c: Colors, sessionId: string, request: QuestionRequest): string {
  const id = request.elicitation_id;
  return `${c.yellow('❓ question:')} ${c.bold(oneLine(request.message))} ${c.dim(`(id ${id}) — tower answer ${sessionId} ${id} <answer>`)}`;
}

const DECISION_SCOPE: Record<ConfirmationDecision, string> = {
  approve: '',
  approve_tool: ' and its tool from now on',
  approve_session: ' and every call of the session from now on',
  reject: '',
};

/**
 * `✓ approved bash (call_1)`, `… and its tool from now on`, `✗ rejected bash (call_1): too risky`. `tool`
 * is the tool's name when the request was seen, else only the id shows.
 */
export function formatConfirmed(
  c: Colors,
  answer: { tool_call_id: string; decision: ConfirmationDecision; reason?: string },
  tool: string | undefined,
): string {
  const what = tool === undefined ? answer.tool_call_id : `${tool} (${answer.tool_call_id})`;
  if (answer.decision === 'reject') return c.red(`✗ rejected ${what}${answer.reason ? `: ${oneLine(answer.reason)}` : ''}`);
  const note = answer.reason ? c.dim(` — ${oneLine(answer.reason)}`) : '';
  return `${c.green('✓')} approved ${what}${DECISION_SCOPE[answer.decision]}${note}`;
}

/** `✓ question answered (el_1)`, `✗ question declined (el_1)`, `✗ question canceled (el_1)`. */
export function formatQuestionResolved(c: Colors, elicitationId: string, action: ElicitationAction): string {
  if (action === 'accept') return `${c.green('✓')} question answered ${c.dim(`(${elicitationId})`)}`;
  return c.yellow(`✗ question ${action === 'decline' ? 'declined' : 'canceled'} (${elicitationId})`);
}

/** `↪ steered: also check the tests` — a message injected into the running turn. */
export function formatSteered(c: Colors, content: string): string {
  return `${c.cyan('↪ steered:')} ${oneLine(content)}`;
}

/** `⧗ queued follow-up: then write the docs`, `⧗ queued steer: …`. */
export function formatQueued(c: Colors, queue: QueueName, content: string): string {
  return `${c.cyan(`⧗ queued ${queue === 'followup' ? 'follow-up' : 'steer'}:`)} ${oneLine(content)}`;
}

/** `queue cleared: 2 follow-ups dropped`. */
export function formatQueueCleared(c: Colors, queue: QueueName, count: number): string {
  const noun = queue === 'followup' ? 'follow-up' : 'steer';
  return c.dim(`queue cleared: ${count} ${noun}${count === 1 ? '' : 's'} dropped`);
}

/** `⇄ model: fake/a → fake/b` */
export function formatModelChanged(c: Colors, previous: string, model: string): string {
  return `${c.cyan('⇄ model:')} ${previous} → ${c.bold(model)}`;
}

/** `permissions: policy balanced · auto-approve on · allow bash, git*` */
export function formatPermissions(c: Colors, permissions: Permissions): string {
  const parts = [`policy ${permissions.policy}`, `auto-approve ${permissions.auto_approve ? 'on' : 'off'}`];
  for (const kind of ['allow', 'ask', 'deny'] as const) {
    if (permissions[kind].length > 0) parts.push(`${kind} ${permissions[kind].join(', ')}`);
  }
  return c.dim(`permissions: ${parts.join(' · ')}`);
}
