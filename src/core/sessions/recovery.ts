import type { ConversationMessage } from '../../protocol/conversation.js';
import type { Store } from '../../store/types.js';
import type { EventLog } from '../event-log/index.js';
import type { Logger } from '../logger.js';

const INTERRUPTED = 'interrupted: Tower stopped before this tool finished';

/**
 * A turn that was running when the previous process died is closed with `stream_stopped
 * {reason: server_restart}`, and any tool call it left without a result gets one, so the session is
 * usable again and its conversation stays valid for the model.
 */
export async function recoverInterruptedTurns(store: Store, log: EventLog, logger: Logger): Promise<number> {
  let recovered = 0;
  for (const id of await store.listSessionIds()) {
    const turnId = await store.getState(id, 'active_turn');
    if (turnId === undefined) continue;
    const messages = (await store.listMessages(id)).map((m) => m.message);
    for (const call of danglingToolCalls(messages)) {
      const message: ConversationMessage = {
        role: 'tool',
        tool_call_id: call.id,
        tool_name: call.name,
        content: INTERRUPTED,
        is_error: true,
      };
      void log.append(
        id,
        { type: 'tool_call_response', data: { tool_call_id: call.id, tool: call.name, result: INTERRUPTED, is_error: true } },
        { message },
      );
    }
    await log.append(id, { type: 'stream_stopped', data: { turn_id: turnId, reason: 'server_restart' } });
    await store.setState(id, 'active_turn', undefined);
    logger.warn({ session_id: id, turn_id: turnId }, 'closed a turn interrupted by a restart');
    recovered++;
  }
  return recovered;
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
