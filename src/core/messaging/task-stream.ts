import type { StoredEvent } from '../../protocol/events.js';
import type { TaskStream } from '../../protocol/telemetry.js';

/** What a task stream frame says about the session it came from. */
export interface SessionInfo {
  working_dir: string;
}

interface TurnContext {
  turnId: string;
  turnNum: number;
  directive: string;
  startedAt: number;
  tokensIn: number;
  tokensOut: number;
  cost: number;
}

const SHORT = 200;
const TOOL_TEXT = 2000;
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);
const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

/** The messaging tools whose `thread_id` argument binds a session to a thread. */
const THREAD_TOOLS = new Set(['thread_post', 'thread_read']);

/**
 * Turns session events into seed 001's task stream (turn_start, text, tool_use, tool_result, turn_end,
 * error, status), carrying the context a dashboard groups by. Keeps only the open turn of each session.
 *
 * `thread_id`: sessions are not created inside a thread (a handoff goes through the inbox, not a
 * thread), so the binding is what the session itself does: from its first `thread_post` / `thread_read`
 * call on, its frames carry the thread it last used. A session that never touches a thread has no
 * `thread_id` (the field is omitted). The binding is rebuilt from live events only, so after a restart
 * it starts again at the session's next thread call.
 */
export class TaskStreamDeriver {
  private readonly turns = new Map<string, TurnContext>();
  private readonly lastUser = new Map<string, string>();
  private readonly turnCount = new Map<string, number>();
  private readonly threadOf = new Map<string, string>();

  /** With `emit` false only the turn context is kept up to date (nobody listens: no frame is built). */
  derive(event: StoredEvent, info: SessionInfo | undefined, emit = true): TaskStream | undefined {
    const id = event.session_id;
    if (event.type === 'user_message') {
      if (!this.turns.has(id)) this.lastUser.set(id, event.data.content);
      return undefined;
    }
    if (event.type === 'session_deleted') {
      this.forget(id);
      return undefined;
    }
    if (event.type === 'stream_started') {
      const turnNum = (this.turnCount.get(id) ?? 0) + 1;
      this.turnCount.set(id, turnNum);
      const directive = this.lastUser.get(id) ?? '';
      this.turns.set(id, { turnId: event.data.turn_id, turnNum, directive, startedAt: Date.parse(event.timestamp), tokensIn: 0, tokensOut: 0, cost: 0 });
      if (!emit) return undefined;
      return this.frame(event, info, 'turn_start', { status: 'running', directive: cut(directive, SHORT), directive_full: directive });
    }
    if (event.type === 'tool_call' && THREAD_TOOLS.has(event.data.tool)) this.bindThread(id, event.data.args);
    const turn = this.turns.get(id);
    if (!turn) return undefined;
    if (!emit && event.type !== 'token_usage' && event.type !== 'stream_stopped') return undefined;
    switch (event.type) {
      case 'agent_choice':
        return this.frame(event, info, 'text', { text: event.data.content });
      case 'tool_call':
        return this.frame(event, info, 'tool_use', { tool_name: event.data.tool, tool_input: cut(str(event.data.args), TOOL_TEXT) });
      case 'tool_call_response':
        return this.frame(event, info, 'tool_result', {
          tool_name: event.data.tool,
          tool_output: cut(event.data.result, TOOL_TEXT),
          ...(event.data.is_error ? { error_msg: cut(event.data.result, SHORT) } : {}),
        });
      case 'token_usage':
        turn.tokensIn += event.data.input_tokens;
        turn.tokensOut += event.data.output_tokens;
        turn.cost += event.data.cost;
        return undefined;
      case 'error':
        return this.frame(event, info, 'error', { error_msg: `${event.data.code}: ${event.data.message}` });
      case 'tool_call_confirmation':
        return this.frame(event, info, 'status', { status: 'waiting_confirmation', tool_name: event.data.tool });
      case 'elicitation_request':
        return this.frame(event, info, 'status', { status: 'waiting_input' });
      case 'tool_call_confirmed':
      case 'elicitation_resolved':
        return this.frame(event, info, 'status', { status: 'running' });
      case 'stream_stopped': {
        this.turns.delete(id);
        this.lastUser.delete(id);
        if (!emit) return undefined;
        const reason = event.data.reason;
        const status = reason === 'normal' || reason === 'max_iterations' ? 'completed' : reason === 'canceled' ? 'canceled' : 'failed';
        return this.frame(event, info, 'turn_end', {
          status,
          tokens_in: turn.tokensIn,
          tokens_out: turn.tokensOut,
          cost: turn.cost,
          duration_sec: Math.max(0, Math.round((Date.parse(event.timestamp) - turn.startedAt) / 1000)),
        }, turn);
      }
      default:
        return undefined;
    }
  }

  /**
   * Takes up a turn already under way (a deriver started mid-turn): `events` from its user message (or
   * its `stream_started`) on, `turnNum` the number that turn has. Nothing is emitted.
   */
  resume(events: readonly StoredEvent[], turnNum: number): void {
    const first = events[0];
    if (!first) return;
    this.turnCount.set(first.session_id, Math.max(0, turnNum - 1));
    for (const e of events) this.derive(e, undefined, false);
  }

  forget(sessionId: string): void {
    this.turns.delete(sessionId);
    this.lastUser.delete(sessionId);
    this.turnCount.delete(sessionId);
    this.threadOf.delete(sessionId);
  }

  private bindThread(sessionId: string, args: unknown): void {
    const threadId = typeof args === 'object' && args !== null ? (args as Record<string, unknown>).thread_id : undefined;
    if (typeof threadId === 'string' && threadId.length > 0 && threadId.length <= 200) this.threadOf.set(sessionId, threadId);
  }

  private frame(
    event: StoredEvent,
    info: SessionInfo | undefined,
    stream_type: TaskStream['stream_type'],
    fields: Partial<TaskStream>,
    ended?: TurnContext,
  ): TaskStream {
    const turn = ended ?? this.turns.get(event.session_id);
    const directive = turn?.directive ?? '';
    const threadId = this.threadOf.get(event.session_id);
    return {
      task_id: turn?.turnId ?? '',
      session_id: event.session_id,
      seq: event.seq,
      stream_type,
      turn_num: turn?.turnNum ?? 0,
      agent_id: event.session_id,
      ...(threadId ? { thread_id: threadId } : {}),
      source_type: directive.startsWith('[handoff from') ? 'handoff' : 'direct',
      ...(info ? { workspace: info.working_dir } : {}),
      ...(stream_type !== 'turn_start' && directive ? { directive: cut(directive, SHORT) } : {}),
      ...fields,
    };
  }
}
