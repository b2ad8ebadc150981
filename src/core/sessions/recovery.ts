import { randomUUID } from 'node:crypto';
import type { ConversationMessage } from '../../protocol/conversation.js';
import type { Store } from '../../store/types.js';
import type { NewEvent } from '../../protocol/events.js';
import type { AppendEffects, EventLog } from '../event-log/index.js';
import type { Logger } from '../logger.js';
import type { SessionClaim } from './claim.js';

const INTERRUPTED = 'interrupted: Tower stopped before this tool finished';

/**
 * A turn that was running when the previous process died is closed with `stream_stopped
 * {reason: server_restart}`, and any tool call it left without a result gets one, so the session is
 * usable again and its conversation stays valid for the model. Only turns the log shows opened (a
 * `stream_started` of that turn with no `stream_stopped` after it) are closed; a marker without one is
 * just cleared. The closing events and the cleared marker commit in one transaction.
 */
export async function recoverInterruptedTurns(
  store: Store,
  log: EventLog,
  logger: Logger,
  opts: RecoveryOptions = {},
): Promise<number> {
  let recovered = 0;
  for (const id of opts.sessions ?? (await store.listSessionsWithState(['active_turn']))) {
    if (!opts.claims) {
      if (await recoverOne(store, log, logger, id)) recovered++;
      continue;
    }
    // Many nodes: only the node that takes the session's claim recovers it, so a turn another node runs
    // is left alone and a dead node's session is closed once. The closing commit runs under the claim.
    const owner = `recovery:${randomUUID()}`;
    if (!(await opts.claims.claim(id, owner))) continue;
    try {
      if (await recoverOne(store, log, logger, id)) recovered++;
    } finally {
      await opts.claims.release(id, owner);
    }
  }
  return recovered;
}

export interface RecoveryOptions {
  /** Only these sessions (a takeover); default every session with an `active_turn` marker. */
  sessions?: readonly string[];
  /** Recover a session only while holding its claim (a cluster's lease). */
  claims?: SessionClaim;
}

async function recoverOne(store: Store, log: EventLog, logger: Logger, id: string): Promise<boolean> {
  const turnId = await store.getState(id, 'active_turn');
  if (turnId === undefined) return false;
  if (!(await turnIsOpen(store, id, turnId))) {
    await store.setState(id, 'active_turn', undefined);
    logger.warn({ session_id: id, turn_id: turnId }, 'cleared a turn marker the log does not show open');
    return false;
  }
  const messages = (await store.listMessages(id)).map((m) => m.message);
  const closing: Array<{ event: NewEvent; effects?: AppendEffects }> = danglingToolCalls(messages).map((call) => {
    const message: ConversationMessage = {
      role: 'tool',
      tool_call_id: call.id,
      tool_name: call.name,
      content: INTERRUPTED,
      is_error: true,
    };
    return {
      event: { type: 'tool_call_response', data: { tool_call_id: call.id, tool: call.name, result: INTERRUPTED, is_error: true } },
      effects: { message },
    };
  });
  closing.push({
    event: { type: 'stream_stopped', data: { turn_id: turnId, reason: 'server_restart' } },
    effects: { state: { active_turn: null } },
  });
  await log.appendAll(id, closing);
  logger.warn({ session_id: id, turn_id: turnId }, 'closed a turn interrupted by a restart');
  return true;
}

/** True if the log's last turn is `turnId` and has no `stream_stopped` yet. */
async function turnIsOpen(store: Store, id: string, turnId: string): Promise<boolean> {
  let open = false;
  let after = 0;
  for (;;) {
    const page = await store.readEvents(id, after, 5000);
    for (const e of page) {
      if (e.type === 'stream_started') open = e.data.turn_id === turnId;
      else if (e.type === 'stream_stopped') open = false;
    }
    if (page.length < 5000) return open;
    after = page[page.length - 1]?.seq ?? after;
  }
}

/** Tool calls of the last assistant message that have no tool result after them. */
export function danglingToolCalls(messages: ConversationMessage[]): Array<{ id: string; name: string }> {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'assistant') continue;
    const answered = new Set(
      messages.slice(i + 1).flatMap((x) => (x.role === 'tool' ? [x.tool_call_id] : [])),
    );
    return (m.tool_calls ?? []).filter((c) => !answered.has(c.id)).map((c) => ({ id: c.id, name: c.name }));
  }
  return [];
}
