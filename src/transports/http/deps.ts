import type { Logger } from '../../core/logger.js';
import type { ModelInfo } from '../../core/models/types.js';
import type { CommandService } from '../../core/commands/index.js';
import type { SessionManager } from '../../core/sessions/index.js';

export interface HttpDeps {
  manager: SessionManager;
  /** The command layer: routes validate their wire shape, then call `commands.execute`. */
  commands: CommandService;
  models: { list(): ModelInfo[]; defaultModel: string };
  logger: Logger;
  /** Bearer token; when unset the API is open (loopback-only deployments). */
  token?: string;
  /** SSE keep-alive comment interval. */
  pingMs?: number;
  version: string;
}
