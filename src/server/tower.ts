import { mkdirSync } from 'node:fs';
import { EventLog } from '../core/event-log/index.js';
import { createLogger, type Logger } from '../core/logger.js';
import {
  DEMO_MODEL_ID,
  WireStepper,
  createModelRegistry,
  generateTitle,
  mergeModelsConfig,
  type ModelRegistry,
  type ModelsConfigInput,
} from '../core/models/index.js';
import { CommandService } from '../core/commands/index.js';
import { Metrics, type MetricsSources } from '../core/metrics/index.js';
import { SessionManager } from '../core/sessions/index.js';
import type { ToolExecutor } from '../protocol/tools.js';
import { startDemoModelServer, type FakeModelServer } from '../fake-models/index.js';
import { TowerError } from '../protocol/errors.js';
import { createServerExecutor, reapOrphanedCommands } from '../runner/index.js';
import type { RunnerTokenStore } from '../store/runner-tokens.js';
import { SqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/types.js';
import { RunnerEvents } from '../transports/runner-events.js';
import { createHttpApp, listenHttp, startingApp, type DegradedTransport, type HttpServer } from '../transports/http/index.js';
import { backendExtras, openBackends, pickUrls } from './backends.js';
import { clusterSettings, openCluster } from './cluster/index.js';
import { isLoopback, mcpDefaults, type TowerConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { startMessaging } from './messaging.js';
import { storeReadiness } from './readiness.js';
import { ensureToken } from './token.js';
import { TRANSPORTS } from './transport-list.js';
import { closeTransports, degradedTransports, startTransports, type RunningTransport, type StartFailures, type TransportStarter } from './transports.js';
import { VERSION } from './version.js';

export interface Tower {
  url: string;
  port: number;
  token?: string;
  /** Set when Tower made the token itself (non-loopback bind without one): where it is kept. */
  tokenFile?: string;
  demo: boolean;
  /** Model providers configured by the user (the demo's own is not among them). */
  providers: string[];
  defaultModel: string;
  manager: SessionManager;
  commands: CommandService;
  metrics: Metrics;
  store: Store;
  log: EventLog;
  logger: Logger;
  close(): Promise<void>;
}

export interface TowerOverrides {
  logger?: Logger;
  executor?: ToolExecutor;
  /** Extra models config merged over the file's (tests point providers at fake servers this way). */
  models?: ModelsConfigInput;
  env?: NodeJS.ProcessEnv;
  pingMs?: number;
  /** Replaces the default transports beside HTTP (tests start only the one they exercise). */
  transports?: readonly TransportStarter[];
  /** Called as start-up enters each phase, with the bound URL (tests hold a phase to watch /ready). */
  onStartPhase?: (phase: string, url: string) => Promise<void> | void;
}

/**
 * The composition root: checks the models, binds the port (a port in use fails before anything is
 * created on disk; until the API is ready the port answers /health, and /ready with 503 and the reason),
 * opens the store, builds the log, models, tools and session manager, recovers turns the last process
 * left open, then serves the API. Closing reverses it; a failed start undoes what it did.
 */
export async function startTower(config: TowerConfig, overrides: TowerOverrides = {}): Promise<Tower> {
  const logger = overrides.logger ?? createLogger(config.logLevel ? { level: config.logLevel } : {});
  // The AI SDK prints provider warnings to the console on every call; Tower's logs are structured.
  globalThis.AI_SDK_LOG_WARNINGS = (warnings: unknown[]) => logger.debug({ warnings }, 'model provider warnings');
  const undo: Array<() => Promise<unknown>> = [];
  const fail = async (err: unknown): Promise<never> => {
    for (const step of undo.reverse()) await step().catch((e: unknown) => logger.warn({ err: e }, 'start-up cleanup failed'));
    throw err;
  };
  let modelsConfig = mergeModelsConfig(config.file as ModelsConfigInput, overrides.models ?? {});
  let registry = createModelRegistry({ config: modelsConfig, env: overrides.env ?? process.env });
  requireConfiguredDefault(modelsConfig.default_model, registry, config.configPath);
  const clusterConfig = clusterSettings(overrides.env ?? process.env);
  const providers = registry.providerNames();
  let demoServer: FakeModelServer | undefined;
  const demo = config.demo || !registry.isConfigured();
  if (demo) {
    const started = await startDemoModelServer();
    demoServer = started.server;
    undo.push(() => started.server.close());
    modelsConfig = mergeModelsConfig(modelsConfig, started.config);
    registry = createModelRegistry({ config: modelsConfig, env: overrides.env ?? process.env });
  }
  let phase = 'binding the port';
  let http: HttpServer;
  try {
    const defaultModel = pickDefaultModel(config, registry, demo, providers);
    http = await listenHttp(startingApp(VERSION, () => phase), { host: config.host, port: config.port }).catch((err: unknown) => {
      throw listenError(err, config);
    });
    undo.push(() => http.close());
    const enter = async (next: string): Promise<void> => {
      phase = next;
      await overrides.onStartPhase?.(next, http.url);
    };

    await enter('opening the store');
    // Owner-only: the data dir holds every conversation and the token.
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // Before anything reads or writes the store: recovery must never run on a log another Tower writes.
    const lock = lockDataDir(config.dataDir);
    undo.push(async () => lock.release());
    // A stray rejection must be logged, not end the process (Node's default) and every session with it.
    const onUnhandled = (reason: unknown): void => logger.error({ err: reason }, 'unhandled rejection');
    process.on('unhandledRejection', onUnhandled);
    undo.push(async () => process.off('unhandledRejection', onUnhandled));
    let token = config.token;
    let tokenFile: string | undefined;
    if (!token && !isLoopback(config.host)) {
      const made = ensureToken(config.dataDir);
      token = made.token;
      tokenFile = made.file;
    }
    await reapOrphanedCommands(config.dataDir, logger); // before recovery, so no orphan acts after it
    const metrics = new Metrics({ public: config.metricsPublic === true });
    undo.push(async () => metrics.close());
    const backends = await openBackends({ dataDir: config.dataDir, redisPrefix: clusterConfig.redisPrefix, ...pickUrls(config) }, logger);
    undo.push(() => backends.close());
    const cluster = await openCluster(
      { store: backends.store, node: backends.nodeId, busUrl: config.busUrl, settings: clusterConfig },
      logger,
    );
    if (cluster) undo.push(() => cluster.close());
    const store = metrics.store(backends.store);
    const log = new EventLog(store, backends.bus, { logger });
    undo.push(() => log.close());
    const manager = new SessionManager({
      store,
      log,
      stepper: metrics.stepper(new WireStepper(registry)),
      executor: metrics.executor(overrides.executor ?? createServerExecutor({ dataDir: config.dataDir, config: config.file, logger })),
      models: registry,
      titler: (model, first, signal) => generateTitle(registry, model, first, signal),
      logger,
      defaults: {
        workingDir: config.workingDir,
        model: defaultModel,
        maxIterations: config.maxIterations,
        permissions: config.permissions,
        ...mcpDefaults(config.file.mcp),
        mcpSandbox: { mode: config.file.sandbox ?? 'auto', network: config.file.network ?? false, hide: [config.dataDir] },
      },
      ...(cluster ? { claims: cluster.claims } : {}),
    });
    const modelList = { list: () => registry.list(), defaultModel };
    const commands = cluster ? cluster.commands({ manager, models: modelList }) : new CommandService({ manager, models: modelList });
    metrics.attach(log, metricsSources(manager, store, commands, backends.store));
    // Before recovery: a recovered turn may call the messaging tools.
    const messaging = await startMessaging({ backend: backends.store, store, log, commands, logger });
    undo.push(async () => messaging.close());

    await enter('recovering interrupted turns');
    await manager.start();
    cluster?.start(manager);
    let stopping = false;
    // Filled as transports start: `/ready` and `/health` read them at each request.
    let transports: RunningTransport[] = [];
    const failures: StartFailures = [];
    const degraded = (): DegradedTransport[] => degradedTransports(transports, failures);
    const app = createHttpApp({
      manager,
      commands,
      models: modelList,
      logger,
      ...(token ? { token } : {}),
      ...(overrides.pingMs ? { pingMs: overrides.pingMs } : {}),
      version: VERSION,
      metrics,
      readiness: storeReadiness(store, { stopping: () => stopping, logger, degraded }),
      degraded,
    });
    await enter('starting transports');
    transports = await startTransports(overrides.transports ?? TRANSPORTS, {
      config, commands, manager, log, store, logger, http, metrics, version: VERSION, runnerEvents: new RunnerEvents(), ...(token ? { token } : {}),
      ...(messaging.runtime ? { messaging: messaging.runtime } : {}), ...withTokens(backendExtras(backends.store).runnerTokens),
      ...(cluster?.runnerDirectory ? { runnerDirectory: cluster.runnerDirectory } : {}),
    }, failures);
    http.use(app);
    logger.info({ url: http.url, demo, model: defaultModel, data_dir: config.dataDir }, 'tower listening');

    return {
      url: http.url,
      port: http.port,
      ...(token ? { token } : {}),
      ...(tokenFile ? { tokenFile } : {}),
      demo,
      providers,
      defaultModel,
      manager,
      commands,
      metrics,
      store,
      log,
      logger,
      close: async () => {
        stopping = true;
        await closeTransports(transports, logger);
        await manager.shutdown();
        await cluster?.close();
        messaging.close();
        await http.close();
        await log.close();
        await backends.close();
        metrics.close();
        await demoServer?.close();
        process.off('unhandledRejection', onUnhandled);
        lock.release();
      },
    };
  } catch (err) {
    return fail(err);
  }
}

const withTokens = (runnerTokens: RunnerTokenStore | undefined): { runnerTokens?: RunnerTokenStore } => (runnerTokens ? { runnerTokens } : {});

/** The config's `default_model` must name a configured provider: a silent fallback would mislead. */
function requireConfiguredDefault(wanted: string | undefined, registry: ModelRegistry, file: string | undefined): void {
  if (wanted === undefined || registry.has(wanted)) return;
  const where = file ? ` in ${file}` : '';
  throw new TowerError(
    'unknown_model',
    `default_model "${wanted}"${where} has no configured provider (providers: ${registry.providerNames().join(', ') || 'none'})`,
  );
}

function listenError(err: unknown, config: TowerConfig): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new Error(`Cannot listen on ${config.host}:${config.port}: the port is in use (another Tower?); choose another with --port`);
  if (code === 'EACCES') return new Error(`Cannot listen on ${config.host}:${config.port}: permission denied`);
  return err;
}

function metricsSources(manager: SessionManager, store: Store, commands: CommandService, backend: Store): MetricsSources {
  return {
    walBytes: () => (backend instanceof SqliteStore ? backend.checkpointer?.stats.walBytes : undefined),
    runningSessions: () => manager.active.runningTurns().map(([id]) => id),
    sessionIds: () => store.listSessionIds(),
    queueDepths: async (id) => {
      const q = await commands.execute('sessions.queue', { session_id: id });
      return { steer: q.steer.depth, followup: q.followup.depth };
    },
  };
}

function pickDefaultModel(config: TowerConfig, registry: ModelRegistry, demo: boolean, providers: string[]): string {
  const wanted = config.model ?? registry.defaultModel() ?? (demo ? DEMO_MODEL_ID : undefined);
  if (!wanted) throw new TowerError('unknown_model', 'No model configured: set one with --model or in the config file');
  if (!registry.has(wanted)) {
    const hint = demo ? `; demo mode serves ${DEMO_MODEL_ID}` : '';
    throw new TowerError('unknown_model', `Model "${wanted}" has no configured provider (providers: ${providers.join(', ') || 'none'}${hint})`);
  }
  return wanted;
}
