import type { CommandService } from '../core/commands/index.js';
import type { EventLog } from '../core/event-log/index.js';
import type { Logger } from '../core/logger.js';
import type { MessagingRuntime } from '../core/messaging/index.js';
import type { Metrics } from '../core/metrics/index.js';
import type { SessionManager } from '../core/sessions/index.js';
import type { RunnerTokenStore } from '../store/runner-tokens.js';
import type { Store } from '../store/types.js';
import type { HttpServer } from './http/index.js';
import type { BusConfig } from './ipc/settings.js';
import type { RunnerEvents } from './runner-events.js';
import type { RunnerDirectoryFactory } from './runners/directory.js';

/** What a transport gets from the composition root: the core services, and the HTTP server to share. */
/** The slice of Tower's configuration transports read. */
export interface TransportConfig {
  workingDir: string;
  /** The raw config file, for transport-specific keys (e.g. `hub_allowed_origins`). */
  file: Record<string, unknown>;
  bus: BusConfig;
}

export interface TransportContext {
  config: TransportConfig;
  commands: CommandService;
  manager: SessionManager;
  log: EventLog;
  store: Store;
  logger: Logger;
  http: HttpServer;
  /** Tower's version, for transports that report it (`instance.info`). */
  version: string;
  /** The bearer token clients must present, when one is in use. */
  token?: string;
  /** Runner events (connected, disconnected, heartbeat): the runner gateway publishes, the hub follows. */
  runnerEvents?: RunnerEvents;
  /** Messaging (threads, inboxes, telemetry) as the composition root runs it; absent: no messaging. */
  messaging?: MessagingRuntime;
  /** Runner tokens of the store backend in use; absent: no runner gateway. */
  runnerTokens?: RunnerTokenStore;
  /** In a cluster: this node's runners published to the others, and theirs usable here. */
  runnerDirectory?: RunnerDirectoryFactory;
  /** Count live subscriptions with `metrics.subscription('<transport>', sub)` (shown in /metrics). */
  metrics?: Metrics;
}

/** A transport's state for `/ready` and `/health`: up, or down with a stable code and the reason. */
export type TransportHealth = { up: true } | { up: false; code: string; reason: string; since?: string };

export interface RunningTransport {
  readonly name: string;
  close(): Promise<void>;
  /** Absent: up whenever running (only a transport that can be down while running, e.g. a retrying bus, has it). */
  health?(): TransportHealth;
}

/**
 * A transport beside HTTP (hub, instance bus, runner gateway). It starts after the HTTP server listens
 * and before Tower reports itself ready; it may decline to run (returns undefined, e.g. turned off).
 * A transport that fails to start is logged and skipped: the HTTP API stays up.
 */
export type TransportStarter = (ctx: TransportContext) => Promise<RunningTransport | undefined>;

