import type { StoredEvent } from '../../protocol/events.js';
import type { Telemetry } from '../../protocol/telemetry.js';
import type { MessagingStore, Store } from '../../store/types.js';
import type { EventLog } from '../event-log/index.js';
import type { Logger } from '../logger.js';
import { provideSessionTools } from '../sessions/session-tools.js';
import type { SessionPort } from './handoff.js';
import { MessagingService } from './service.js';
import { TelemetryTracker } from './telemetry.js';
import { createMessagingTools } from './tools.js';

export interface MessagingRuntimeDeps {
  /** The messaging tables of the store backend in use (SQLite or Postgres). */
  store: MessagingStore;
  /** Sessions, to seed telemetry with what the store knows. */
  sessions: Pick<Store, 'listSessions'>;
  log: EventLog;
  /** How handoffs and agent tools start or queue turns (the command layer's checks). */
  port: SessionPort;
  logger: Logger;
}

/**
 * Messaging as one piece of a running Tower, whatever transports run: the service (watching the store,
 * so other nodes' and programs' rows arrive live), the agents' messaging tools, and per-session
 * telemetry folded from the log. Transports (the hub, HTTP through the commands) use it; none owns it.
 */
export class MessagingRuntime {
  readonly service: MessagingService;
  readonly telemetry: TelemetryTracker;
  readonly port: SessionPort;
  private readonly telemetryListeners = new Set<(t: Telemetry) => void>();
  private readonly undo: Array<() => void> = [];

  private constructor(deps: MessagingRuntimeDeps) {
    this.port = deps.port;
    this.service = new MessagingService(deps.store, deps.logger);
    this.telemetry = new TelemetryTracker((t) => {
      for (const l of [...this.telemetryListeners]) l(t);
    });
  }

  static async start(deps: MessagingRuntimeDeps): Promise<MessagingRuntime> {
    const rt = new MessagingRuntime(deps);
    for (const s of (await deps.sessions.listSessions({ limit: 200 })).items) rt.telemetry.seed(s);
    rt.service.start();
    rt.undo.push(
      () => rt.service.stop(),
      () => rt.telemetry.close(),
      deps.log.tap((events: readonly StoredEvent[]) => {
        for (const e of events) rt.telemetry.apply(e);
      }),
      provideSessionTools(deps.log, (sessionId) => createMessagingTools(rt.service, rt.port, sessionId)),
    );
    return rt;
  }

  /** Telemetry as it changes (throttled per session), for a transport that carries it. */
  onTelemetry(listener: (t: Telemetry) => void): () => void {
    this.telemetryListeners.add(listener);
    return () => this.telemetryListeners.delete(listener);
  }

  close(): void {
    for (const step of this.undo.splice(0).reverse()) step();
    this.telemetryListeners.clear();
  }
}
