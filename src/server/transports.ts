import type { CommandService } from '../core/commands/index.js';
import type { EventLog } from '../core/event-log/index.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics/index.js';
import type { SessionManager } from '../core/sessions/index.js';
import type { Store } from '../store/types.js';
import type { HttpServer } from '../transports/http/index.js';
import type { TowerConfig } from './config.js';

/** What a transport gets from the composition root: the core services, and the HTTP server to share. */
export interface TransportContext {
  config: TowerConfig;
  commands: CommandService;
  manager: SessionManager;
  log: EventLog;
  store: Store;
  logger: Logger;
  http: HttpServer;
  /** The bearer token clients must present, when one is in use. */
  token?: string;
  /** Count live subscriptions with `metrics.subscription('<transport>', sub)` (shown in /metrics). */
  metrics?: Metrics;
}

export interface RunningTransport {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * A transport beside HTTP (hub, instance bus, runner gateway). It starts after the HTTP server listens
 * and before Tower reports itself ready; it may decline to run (returns undefined, e.g. turned off).
 * A transport that fails to start is logged and skipped: the HTTP API stays up.
 */
export type TransportStarter = (ctx: TransportContext) => Promise<RunningTransport | undefined>;

/** Starts each transport in order; the result closes them in reverse. */
export async function startTransports(starters: readonly TransportStarter[], ctx: TransportContext): Promise<RunningTransport[]> {
  const running: RunningTransport[] = [];
  for (const start of starters) {
    try {
      const t = await start(ctx);
      if (t) running.push(t);
    } catch (err) {
      ctx.logger.error({ err }, 'transport failed to start; continuing without it');
    }
  }
  return running;
}

export async function closeTransports(running: readonly RunningTransport[], logger: Logger): Promise<void> {
  for (const t of [...running].reverse()) {
    await t.close().catch((err: unknown) => logger.error({ err, transport: t.name }, 'transport failed to close'));
  }
}
