import type { SessionPort } from '../messaging/index.js';
import type { CommandService } from './command-service.js';

/** Sessions as the messaging core needs them, backed by the command layer (same checks as HTTP). */
export function commandSessionPort(commands: CommandService): SessionPort {
  return {
    create: (body) => commands.execute('sessions.create', body),
    sendOrQueue: async (sessionId, content) => {
      const r = await commands.execute('sessions.send', { session_id: sessionId, content, on_busy: 'enqueue' });
      return 'turn_id' in r ? 'started' : 'queued';
    },
  };
}
