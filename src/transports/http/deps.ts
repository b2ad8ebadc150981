import type { CommandService } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../core/metrics/index.js';
import type { ModelInfo } from '../../core/models/types.js';
import type { SessionManager } from '../../core/sessions/index.js';

/** Whether Tower serves: false with the reason while it starts, stops, or its store does not answer. */
export type Readiness = { ready: true } | { ready: false; reason: string };

export interface HttpDeps {
  /** Only for the event stream (a subscription, not a request/response command). */
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
  /** What `/ready` answers; ready when absent. */
  readiness?: () => Promise<Readiness>;
  /** Serves `/metrics` (behind the token unless `metrics.isPublic`) and counts SSE subscribers. */
  metrics?: Metrics;
}
