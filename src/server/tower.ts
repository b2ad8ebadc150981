import { mkdirSync } from 'node:fs';
import { EventLog } from '../core/event-log/index.js';
import { createLogger, type Logger } from '../core/logger.js';
import {
  AiSdkStepper,
  DEMO_MODEL_ID,
  createModelRegistry,
  generateTitle,
  mergeModelsConfig,
  type ModelRegistry,
  type ModelsConfigInput,
} from '../core/models/index.js';
import { SessionManager } from '../core/sessions/index.js';
import type { ToolExecutor } from '../core/tools/types.js';
import { startDemoModelServer, type FakeModelServer } from '../fake-models/index.js';
import { TowerError } from '../protocol/errors.js';
import { createLocalExecutor } from '../runner/executor/index.js';
import type { Store } from '../store/types.js';
import { createHttpApp, listenHttp, type HttpServer } from '../transports/http/index.js';
import { openBackends, pickUrls } from './backends.js';
import { isLoopback, type TowerConfig } from './config.js';
import { ensureToken } from './token.js';
import { VERSION } from './version.js';

export interface Tower {
  url: string;
  port: number;
  token?: string;
  /** Set when Tower made the token itself (non-loopback bind without one): where it is kept. */
  tokenFile?: string;
  demo: boolean;
  defaultModel: string;
  manager: SessionManager;
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
}

/**
 * The composition root: opens the store, builds the log, models, tools and session manager, recovers
 * turns the last process left open, and serves HTTP. Closing reverses it.
 */
export async function startTower(config: TowerConfig, overrides: TowerOverrides = {}): Promise<Tower> {
  const logger = overrides.logger ?? createLogger(config.logLevel ? { level: config.logLevel } : {});
  // The AI SDK prints provider warnings to the console on every call; Tower's logs are structured.
  globalThis.AI_SDK_LOG_WARNINGS = (warnings: unknown[]) => logger.debug({ warnings }, 'model provider warnings');
  mkdirSync(config.dataDir, { recursive: true });

  let modelsConfig = mergeModelsConfig(config.file as ModelsConfigInput, overrides.models ?? {});
  let registry = createModelRegistry({ config: modelsConfig, env: overrides.env ?? process.env });
  let demoServer: FakeModelServer | undefined;
  const demo = config.demo || !registry.isConfigured();
  if (demo) {
    const started = await startDemoModelServer();
    demoServer = started.server;
    modelsConfig = mergeModelsConfig(modelsConfig, started.config);
    registry = createModelRegistry({ config: modelsConfig, env: overrides.env ?? process.env });
  }
  const defaultModel = pickDefaultModel(config, registry, demo);

  let token = config.token;
  let tokenFile: string | undefined;
  if (!token && !isLoopback(config.host)) {
    const made = ensureToken(config.dataDir);
    token = made.token;
    tokenFile = made.file;
  }

  const backends = await openBackends({ dataDir: config.dataDir, ...pickUrls(config) }, logger);
  const { store } = backends;
  const log = new EventLog(store, backends.bus, { logger });
  const manager = new SessionManager({
    store,
    log,
    stepper: new AiSdkStepper(registry),
    executor: overrides.executor ?? createLocalExecutor(),
    models: registry,
    titler: (model, first, signal) => generateTitle(registry, model, first, signal),
    logger,
    defaults: {
      workingDir: config.workingDir,
      model: defaultModel,
      maxIterations: config.maxIterations,
      permissions: config.permissions,
    },
  });
  await manager.start();

  const app = createHttpApp({
    manager,
    models: { list: () => registry.list(), defaultModel },
    logger,
    ...(token ? { token } : {}),
    ...(overrides.pingMs ? { pingMs: overrides.pingMs } : {}),
    version: VERSION,
  });
  let http: HttpServer;
  try {
    http = await listenHttp(app, { host: config.host, port: config.port });
  } catch (err) {
    await log.close();
    await backends.close();
    await demoServer?.close();
    throw err;
  }
  logger.info({ url: http.url, demo, model: defaultModel, data_dir: config.dataDir }, 'tower listening');

  return {
    url: http.url,
    port: http.port,
    ...(token ? { token } : {}),
    ...(tokenFile ? { tokenFile } : {}),
    demo,
    defaultModel,
    manager,
    store,
    log,
    logger,
    close: async () => {
      await manager.shutdown();
      await http.close();
      await log.close();
      await backends.close();
      await demoServer?.close();
    },
  };
}

function pickDefaultModel(config: TowerConfig, registry: ModelRegistry, demo: boolean): string {
  const wanted = config.model ?? registry.defaultModel() ?? (demo ? DEMO_MODEL_ID : undefined);
  if (!wanted) throw new TowerError('unknown_model', 'No model configured: set one with --model or in the config file');
  if (!registry.has(wanted)) {
    throw new TowerError('unknown_model', `Model "${wanted}" has no configured provider (providers: ${registry.providerNames().join(', ') || 'none'})`);
  }
  return wanted;
}
