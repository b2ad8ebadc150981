import type { CommandService } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../core/metrics/index.js';
import type { ModelInfo } from '../../core/models/types.js';
import type { SessionManager } from '../../core/sessions/index.js';

/** A transport beside HTTP that is down (e.g. the instance bus could not bind and retries). */
export interface DegradedTransport {
  transport: string;
  code: string;
  reason: string;
  since?: string;
}

/**
 * Whether Tower serves: false with the reason (and a stable `code`) while it starts, stops, its store does
 * not answer, or a transport it was configured to run is down (`degraded` names them).
 */
export type Readiness = { ready: true } | { ready: false; reason: string; code?: string; degraded?: DegradedTransport[] };

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
  /** Transports that are down, listed in `/health`'s body (which stays 200: the process is alive). */
  degraded?: () => DegradedTransport[];
  /** Serves `/metrics` (behind the token unless `metrics.isPublic`) and counts SSE subscribers. */
  metrics?: Metrics;
}
