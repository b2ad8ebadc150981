import { randomUUID } from 'node:crypto';
import { TowerError } from '../../protocol/errors.js';
import type { EventLog } from '../event-log/index.js';
import { askUserToolSpec, compileElicitationSchema, parseAskUserArgs } from '../elicitation/index.js';
import type { ToolExecutor } from '../../protocol/tools.js';
import type { ElicitationAnswer, TurnState } from './turn-state.js';

type SessionToolProvider = (sessionId: string) => ToolExecutor;
/** Keyed by the EventLog, which is one per Tower: several Towers in one process keep their own tools. */
const providers = new WeakMap<EventLog, Set<SessionToolProvider>>();

/**
 * Adds tools to every turn of the Tower that owns `log` (messaging adds thread_post, handoff, …), started
 * after the session manager. Returns the removal. Their calls pass the turn's permission gate like any.
 */
export function provideSessionTools(log: EventLog, provider: SessionToolProvider): () => void {
  let set = providers.get(log);
  if (!set) providers.set(log, (set = new Set()));
  set.add(provider);
  return () => set.delete(provider);
}

/**
 * Puts a question to the person: an `elicitation_request` event, then waits for `elicitations.answer`
 * (or the turn's end, or `signal`). `ask_user` and MCP servers' `elicitation/create` both come here.
 */
export async function askPerson(
  turn: TurnState,
  log: EventLog,
  question: { message: string; schema?: Record<string, unknown> },
  signal: AbortSignal,
): Promise<ElicitationAnswer> {
  const elicitationId = `el_${randomUUID().slice(0, 12)}`;
  const info = { elicitation_id: elicitationId, message: question.message, ...(question.schema ? { schema: question.schema } : {}) };
  const answer = turn.elicitations.open(elicitationId, info, signal);
  await log.append(turn.sessionId, { type: 'elicitation_request', data: info });
  return answer;
}

/**
 * Tools served by the session rather than the executor: `ask_user` puts a question to the person
 * (`elicitation_request`) and waits for the answer, which the model receives as JSON; plus the
 * provided ones and `more` (the turn's MCP tools).
 */
export function createSessionTools(turn: TurnState, log: EventLog, more: ToolExecutor[] = []): ToolExecutor {
  const extra = [...[...(providers.get(log) ?? [])].map((p) => p(turn.sessionId)), ...more];
  const owner = (name: string) => extra.find((t) => t.specs().some((s) => s.name === name));
  return {
    specs: () => [askUserToolSpec, ...extra.flatMap((t) => t.specs())],
    async execute(call, ctx) {
      const provided = call.name === askUserToolSpec.name ? undefined : owner(call.name);
      if (provided) return provided.execute(call, ctx);
      if (call.name !== askUserToolSpec.name) return { output: `unknown tool ${call.name}`, is_error: true };
      const args = parseAskUserArgs(call.args);
      if (typeof args === 'string') return { output: args, is_error: true };
      if (args.schema) {
        try {
          compileElicitationSchema(args.schema);
        } catch (err) {
          return { output: err instanceof TowerError ? err.message : String(err), is_error: true };
        }
      }
      const { action, content } = await askPerson(turn, log, args, ctx.signal);
      return { output: JSON.stringify({ action, ...(content ? { content } : {}) }), is_error: false };
    },
  };
}
