import type { SessionRecord } from '../../store/types.js';
import type { TurnWriter } from '../agent/index.js';
import { compileElicitationSchema } from '../elicitation/index.js';
import type { EventLog } from '../event-log/index.js';
import type { Logger } from '../logger.js';
import type { McpElicitHandler, McpHost, McpTurnTools } from '../mcp/index.js';
import { askPerson } from './session-tools.js';
import type { TurnState } from './turn-state.js';

/**
 * The MCP tools of one turn, listed as it starts. A server that cannot be listed writes an `error` event
 * (`mcp_server_failed`) and is left out; nothing here fails the turn. Tools annotated read-only are
 * categorised so for the turn's permission gate.
 */
export async function openMcpTools(
  host: McpHost,
  session: SessionRecord,
  turn: TurnState,
  writer: TurnWriter,
  log: EventLog,
  logger: Logger,
): Promise<McpTurnTools | undefined> {
  try {
    const tools = await host.openTurn(
      {
        id: session.id,
        runner: session.runner,
        mcp: turn.toolContext.mcp,
        placement: { sandbox: turn.toolContext.sandbox, network: turn.toolContext.network, workingDir: session.working_dir },
      },
      {
        signal: turn.abort.signal,
        onServerError: (code, message) => writer.emit({ type: 'error', data: { code, message } }),
        elicit: mcpElicitation(turn, log),
      },
    );
    if (tools) turn.toolCategories = tools.categories();
    return tools;
  } catch (err) {
    logger.error({ err, session_id: session.id }, 'MCP tools could not be prepared');
    return undefined;
  }
}

/**
 * A server's `elicitation/create` as an `elicitation_request` of the session, answered like `ask_user`
 * (`elicitations.answer`: accept with content checked against the server's schema, decline, cancel). A
 * schema Tower cannot check is declined; a question the turn's end or the server cuts short is canceled.
 */
function mcpElicitation(turn: TurnState, log: EventLog): McpElicitHandler {
  return async (request, signal) => {
    try {
      compileElicitationSchema(request.schema);
    } catch {
      return { action: 'decline' };
    }
    try {
      return await askPerson(turn, log, request, AbortSignal.any([signal, turn.abort.signal]));
    } catch {
      return { action: 'cancel' };
    }
  };
}
