import type { ConfirmationBody } from '../../protocol/api.js';
import { TowerError } from '../../protocol/errors.js';
import type { Permissions } from '../../protocol/session.js';
import type { ToolGate } from '../agent/index.js';
import type { EventLog } from '../event-log/index.js';
import { evaluate, TOOL_CATEGORIES, withAllowedTool, type EvaluateOptions } from '../permissions/index.js';
import type { TurnState } from './turn-state.js';

/**
 * The gate of a turn: permissions decide allow / deny / ask; an ask appends `tool_call_confirmation` and
 * waits for a person. Pending confirmations are keyed by tool_call_id, so several can wait at once and
 * be answered in any order (cagent serializes them).
 */
export function createGate(turn: TurnState, log: EventLog, workingDir: string): ToolGate {
  return async (call, signal) => {
    const verdict = evaluate(turn.permissions, { name: call.name, args: call.args }, { workingDir, ...categoriesOf(turn) });
    if (verdict.action === 'allow') return { allow: true };
    if (verdict.action === 'deny') return { allow: false, reason: verdict.reason };
    const answer = turn.confirmations.open(call.id, { tool_call_id: call.id, tool: call.name, args: call.args }, signal);
    await log.append(turn.sessionId, {
      type: 'tool_call_confirmation',
      data: { tool_call_id: call.id, tool: call.name, args: call.args },
    });
    const { decision, reason } = await answer;
    if (decision === 'reject') {
      return { allow: false, reason: `rejected by the user${reason ? `: ${reason}` : ''}` };
    }
    return { allow: true };
  };
}

/** The turn's own tool categories (MCP tools annotated read-only) on top of the built-in ones. */
function categoriesOf(turn: TurnState): Pick<EvaluateOptions, 'categories'> {
  return turn.toolCategories ? { categories: { ...TOOL_CATEGORIES, ...turn.toolCategories } } : {};
}

/**
 * Answers a pending confirmation. `approve_tool` adds an allow rule for the tool and `approve_session`
 * makes the session autonomous; both also approve the other calls waiting that the new rule covers.
 */
export async function answerConfirmation(
  turn: TurnState | undefined,
  log: EventLog,
  toolCallId: string,
  body: ConfirmationBody,
): Promise<void> {
  if (!turn) throw new TowerError('not_found', `No pending confirmation with tool_call_id "${toolCallId}"`);
  const pending = turn.confirmations.list().find((p) => p.tool_call_id === toolCallId);
  // Throws not_found for an unknown id and conflict for one answered before; nothing is written then.
  turn.confirmations.resolve(toolCallId, body);
  const id = turn.sessionId;
  const answered = [log.append(id, { type: 'tool_call_confirmed', data: { tool_call_id: toolCallId, ...body } })];

  let permissions: Permissions | undefined;
  if (body.decision === 'approve_tool' && pending) permissions = withAllowedTool(turn.permissions, pending.tool);
  if (body.decision === 'approve_session') permissions = { ...turn.permissions, policy: 'autonomous' };
  if (permissions) {
    turn.permissions = permissions;
    answered.push(log.append(id, { type: 'permissions_changed', data: { permissions } }, { session: { permissions } }));
    for (const other of turn.confirmations.list()) {
      if (evaluate(permissions, { name: other.tool, args: other.args }, categoriesOf(turn)).action !== 'allow') continue;
      turn.confirmations.resolve(other.tool_call_id, { decision: 'approve' });
      answered.push(
        log.append(id, {
          type: 'tool_call_confirmed',
          data: { tool_call_id: other.tool_call_id, decision: 'approve', reason: `covered by ${body.decision}` },
        }),
      );
    }
  }
  await Promise.all(answered);
}
