import { commandSessionPort, type CommandService } from '../core/commands/index.js';
import type { EventLog } from '../core/event-log/index.js';
import type { Logger } from '../core/logger.js';
import { MessagingRuntime } from '../core/messaging/index.js';
import type { Store } from '../store/types.js';
import { backendExtras } from './backends.js';

export interface RunningMessaging {
  runtime: MessagingRuntime | undefined;
  close(): void;
}

/**
 * Messaging for the composition root, on the messaging tables of the store backend in use (SQLite's, or
 * Postgres's shared by every node): the runtime, attached to the commands (so HTTP, the hub and the bus
 * all have the messaging commands whether or not the hub runs), and the agents' messaging tools.
 */
export async function startMessaging(deps: { backend: Store; store: Store; log: EventLog; commands: CommandService; logger: Logger }): Promise<RunningMessaging> {
  const tables = backendExtras(deps.backend).messaging;
  if (!tables) {
    deps.logger.warn('store has no messaging tables; messaging is off');
    return { runtime: undefined, close: () => undefined };
  }
  const runtime = await MessagingRuntime.start({ store: tables, sessions: deps.store, log: deps.log, port: commandSessionPort(deps.commands), logger: deps.logger });
  deps.commands.attachMessaging({ messaging: runtime.service, sessions: runtime.port, telemetry: runtime.telemetry });
  return {
    runtime,
    close: () => {
      deps.commands.attachMessaging(undefined);
      runtime.close();
    },
  };
}
