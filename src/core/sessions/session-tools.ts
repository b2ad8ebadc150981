import { randomUUID } from 'node:crypto';
import { TowerError } from '../../protocol/errors.js';
import type { EventLog } from '../event-log/index.js';
import { askUserToolSpec, compileElicitationSchema, parseAskUserArgs } from '../elicitation/index.js';
import type { ToolExecutor } from '../../protocol/tools.js';
import type { TurnState } from './turn-state.js';

/**
 * Tools served by the session rather than the executor: `ask_user` puts a question to the person
 * (`elicitation_request`) and waits for the answer, which the model receives as JSON.
 */
export function createSessionTools(turn: TurnState, log: EventLog): ToolExecutor {
  return {
    specs: () => [askUserToolSpec],
    async execute(call, ctx) {
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
      const elicitationId = `el_${randomUUID().slice(0, 12)}`;
      const info = { elicitation_id: elicitationId, message: args.message, ...(args.schema ? { schema: args.schema } : {}) };
      const answer = turn.elicitations.open(elicitationId, info, ctx.signal);
      await log.append(turn.sessionId, { type: 'elicitation_request', data: info });
      const { action, content } = await answer;
      return { output: JSON.stringify({ action, ...(content ? { content } : {}) }), is_error: false };
    },
  };
}
