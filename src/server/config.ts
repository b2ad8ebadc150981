import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TowerError } from '../protocol/errors.js';
import { McpSettings } from '../protocol/mcp.js';
import { Permissions, RunnerPlacement } from '../protocol/session.js';
import { validatePermissions } from '../core/permissions/index.js';
import type { SessionDefaults } from '../core/sessions/index.js';
import { ExecutorConfig } from '../runner/index.js';
import type { BusConfig } from '../transports/ipc/settings.js';
import { isLoopback } from '../transports/net.js';
import { checkBusUrl, checkStoreUrl } from './backends.js';

/**
 * The config's `mcp`: the servers every session has (a session's own `mcp` has the same shape) and the
 * limits of listing their tools at a turn's start, in seconds (defaults 15 and 30, `core/mcp/host.ts`).
 */
export const McpConfig = McpSettings.safeExtend({
  /** Seconds a turn's start waits for one server's tool list before going on without it. */
  list_timeout: z.number().positive().max(600).optional(),
  /** Seconds a server's tool list is reused (per backend and config); 0 lists at every turn. */
  list_cache: z.number().min(0).max(86_400).optional(),
});
export type McpConfig = z.infer<typeof McpConfig>;

/** The config's `mcp` as session defaults (limits in ms); absent keys keep the built-in defaults. */
export function mcpDefaults(mcp: McpConfig | undefined): Pick<SessionDefaults, 'mcpServers' | 'mcpListTimeoutMs' | 'mcpListCacheMs'> {
  if (!mcp) return {};
  return {
    mcpServers: mcp.servers,
    ...(mcp.list_timeout !== undefined ? { mcpListTimeoutMs: mcp.list_timeout * 1000 } : {}),
    ...(mcp.list_cache !== undefined ? { mcpListCacheMs: mcp.list_cache * 1000 } : {}),
  };
}

/** The config file (JSON). Flags win over the environment, which wins over the file. */
export const ConfigFile = z
  .object({
    host: z.string().optional(),
    port: z.number().int().min(0).max(65535).optional(),
    data_dir: z.string().optional(),
    token: z.string().min(16).optional(),
    model: z.string().optional(),
    working_dir: z.string().optional(),
    max_iterations: z.number().int().min(1).max(1000).optional(),
    permissions: Permissions.partial().optional(),
    providers: z.record(z.string(), z.unknown()).optional(),
    models: z.array(z.unknown()).optional(),
    default_model: z.string().optional(),
    /** Serve `/metrics` without the token (for a scraper on a trusted network). */
    metrics_public: z.boolean().optional(),
    /** MCP servers every session has (seed 004's `MCPServerConfig`); a session's own of the same name wins. */
    mcp: McpConfig.optional(),
    /** Where sessions' tools run unless a session says otherwise (remote runners by labels). */
    runner: RunnerPlacement.nullable().optional(),
    /** Seconds a tool call waits for a matching runner to come online. */
    runner_wait: z.number().positive().max(3600).optional(),
    /** Seconds a disconnected runner stays listed before it is forgotten (default one day). */
    runner_offline_retention: z.number().positive().optional(),
    /** Seconds a cancelled remote task's runner has to answer before Tower gives up on it (default 5). */
    runner_cancel_grace: z.number().positive().max(3600).optional(),
  })
  .merge(ExecutorConfig) // sandbox, network, tool_env, allow_private_net
  .passthrough();
export type ConfigFile = z.infer<typeof ConfigFile>;

export interface ServeOptions {
  host?: string;
  port?: number;
  dataDir?: string;
  token?: string;
  model?: string;
  demo?: boolean;
  config?: string;
  /** Where new sessions work when the client names no working_dir. */
  workingDir?: string;
  logLevel?: string;
  /** Pando's instance bus: `false` is `--no-bus`; `busPort` is PUB (RPC is the next port). */
  bus?: boolean;
  busPort?: number;
  busHost?: string;
  /** `postgres://...`: the cluster store (absent: SQLite in the data dir). */
  store?: string;
  /** `redis://...`: the cluster bus (absent: in-process). */
  busUrl?: string;
}

/** The instance bus: on by default, loopback, on the ports Pando derives from the working dir. */
export interface TowerConfig {
  host: string;
  port: number;
  dataDir: string;
  token?: string;
  model?: string;
  demo: boolean;
  workingDir: string;
  maxIterations: number;
  permissions: Permissions;
  /** The raw file, for the model registry (providers, models, default_model). */
  file: ConfigFile;
  /** Where `file` was read from, for messages. */
  configPath?: string;
  metricsPublic: boolean;
  logLevel?: string;
  bus: BusConfig;
  storeUrl?: string;
  busUrl?: string;
}

export const DEFAULT_PORT = 7420;

/** The config file in use: explicit, `$TOWER_CONFIG`, or `./tower.config.json` if present. */
export function configFilePath(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return explicit ?? env.TOWER_CONFIG ?? (existsSync('tower.config.json') ? 'tower.config.json' : undefined);
}

/** Reads the config file (explicit, `$TOWER_CONFIG`, or `./tower.config.json` if present). */
export function readConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv): ConfigFile {
  const file = configFilePath(explicit, env);
  if (!file) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TowerError('invalid_request', `Cannot read config file ${file}: ${(err as Error).message}`);
  }
  const parsed = ConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TowerError('invalid_request', `Config file ${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

function intFrom(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TowerError('invalid_request', `${name} must be a port number`);
  return n;
}

export function resolveConfig(opts: ServeOptions, env: NodeJS.ProcessEnv = process.env): TowerConfig {
  const file = readConfigFile(opts.config, env);
  const configPath = configFilePath(opts.config, env);
  const token = opts.token ?? env.TOWER_TOKEN ?? file.token;
  return {
    host: opts.host ?? env.TOWER_HOST ?? file.host ?? '127.0.0.1',
    port: opts.port ?? intFrom(env.TOWER_PORT, 'TOWER_PORT') ?? file.port ?? DEFAULT_PORT,
    dataDir: path.resolve(opts.dataDir ?? env.TOWER_DATA_DIR ?? file.data_dir ?? '.tower'),
    ...(token ? { token } : {}),
    ...((opts.model ?? env.TOWER_MODEL ?? file.model) ? { model: opts.model ?? env.TOWER_MODEL ?? file.model } : {}),
    demo: opts.demo ?? env.TOWER_DEMO === '1',
    workingDir: path.resolve(opts.workingDir ?? env.TOWER_WORKING_DIR ?? file.working_dir ?? process.cwd()),
    maxIterations: file.max_iterations ?? 50,
    permissions: validated(Permissions.parse(file.permissions ?? {})),
    file,
    ...(configPath ? { configPath } : {}),
    metricsPublic: env.TOWER_METRICS_PUBLIC !== undefined ? env.TOWER_METRICS_PUBLIC === '1' : file.metrics_public === true,
    ...((opts.logLevel ?? env.TOWER_LOG_LEVEL) ? { logLevel: opts.logLevel ?? env.TOWER_LOG_LEVEL } : {}),
    ...optional('storeUrl', checkStoreUrl(opts.store ?? env.TOWER_STORE_URL)),
    ...optional('busUrl', checkBusUrl(opts.busUrl ?? env.TOWER_BUS_URL)),
    bus: busConfig(opts, env),
  };
}

function busConfig(opts: ServeOptions, env: NodeJS.ProcessEnv): BusConfig {
  const port = opts.busPort ?? intFrom(env.TOWER_BUS_PORT, 'TOWER_BUS_PORT');
  if (port !== undefined && (port < 1 || port > 65534)) throw new TowerError('invalid_request', 'the bus port must be 1-65534 (RPC takes the next one)');
  return {
    enabled: opts.bus ?? env.TOWER_BUS !== '0',
    host: opts.busHost ?? env.TOWER_BUS_HOST ?? '127.0.0.1',
    ...(port !== undefined ? { port } : {}),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** Rules in the config file are checked at start, so a bad one fails loudly instead of never matching. */
function validated(permissions: Permissions): Permissions {
  validatePermissions(permissions);
  return permissions;
}

export { isLoopback };
