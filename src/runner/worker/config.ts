import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TowerError } from '../../protocol/errors.js';
import { SandboxMode } from '../../protocol/session.js';

/** Everything `tower runner` needs, after flags, environment and config file were merged (in that order). */
export interface RunnerConfig {
  /** `ws://host:port/runners/ws` (or wss). Never logged with credentials. */
  url: string;
  token: string;
  name: string;
  labels: string[];
  /** Absolute; every operation is confined to it. */
  workspace: string;
  allow: string[];
  deny: string[];
  allowPrivateNet: boolean;
  /** How bash is contained (as on the server: bubblewrap where it works, unless `none`). */
  sandbox: SandboxMode;
  /** Sandboxed commands may use the network. */
  network: boolean;
  /** Extra environment variable names passed to commands (secret-looking names are never passed). */
  toolEnv: string[];
  heartbeatMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  welcomeTimeoutMs: number;
}

export const RUNNER_DEFAULTS = {
  heartbeatMs: 30_000,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 5 * 60_000,
  welcomeTimeoutMs: 5_000,
} as const;

/** The config file (JSON); keys in snake_case like the rest of the wire. */
export const RunnerConfigFile = z
  .object({
    url: z.string(),
    token: z.string(),
    name: z.string(),
    labels: z.array(z.string()),
    workspace: z.string(),
    allow: z.array(z.string()),
    deny: z.array(z.string()),
    allow_private_net: z.boolean(),
    sandbox: SandboxMode,
    network: z.boolean(),
    tool_env: z.array(z.string()),
    heartbeat_ms: z.number().int().min(100),
    reconnect_min_ms: z.number().int().min(10),
    reconnect_max_ms: z.number().int().min(10),
    welcome_timeout_ms: z.number().int().min(100),
  })
  .partial()
  .strict();
export type RunnerConfigFile = z.infer<typeof RunnerConfigFile>;

/** What the command line gave; undefined means "not given". */
export interface RunnerFlags {
  url?: string;
  token?: string;
  name?: string;
  labels?: string;
  workspace?: string;
  allow?: string[];
  deny?: string[];
  allowPrivateNet?: boolean;
  sandbox?: string;
  network?: boolean;
  config?: string;
}

const splitList = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);

/** Newline-separated, since a pattern may well hold a comma. */
const splitPatterns = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split('\n').map((s) => s.trim()).filter(Boolean);

function truthy(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

export async function loadConfigFile(file: string): Promise<RunnerConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TowerError('invalid_request', `cannot read runner config file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new TowerError('invalid_request', `runner config file ${file} is not JSON`);
  }
  const parsed = RunnerConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new TowerError('invalid_request', `invalid runner config file ${file}: ${issues}`);
  }
  return parsed.data;
}

/**
 * Flags win over the environment (`TOWER_RUNNER_URL`, `TOWER_RUNNER_TOKEN`, `TOWER_RUNNER_NAME`,
 * `TOWER_RUNNER_LABELS`, `TOWER_RUNNER_WORKSPACE`, `TOWER_RUNNER_ALLOW`, `TOWER_RUNNER_DENY`,
 * `TOWER_RUNNER_ALLOW_PRIVATE_NET`, `TOWER_RUNNER_CONFIG`), which wins over the config file.
 */
export async function resolveRunnerConfig(flags: RunnerFlags, env: NodeJS.ProcessEnv, cwd: string, hostname: string): Promise<RunnerConfig> {
  const configPath = flags.config ?? env.TOWER_RUNNER_CONFIG;
  const file = configPath ? await loadConfigFile(path.resolve(cwd, configPath)) : {};
  const url = flags.url ?? env.TOWER_RUNNER_URL ?? file.url;
  const token = flags.token ?? env.TOWER_RUNNER_TOKEN ?? file.token;
  if (!url) throw new TowerError('invalid_request', 'tower runner needs --url (or TOWER_RUNNER_URL, or "url" in the config file)');
  if (!token) throw new TowerError('invalid_request', 'tower runner needs --token (or TOWER_RUNNER_TOKEN, or "token" in the config file)');
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new TowerError('invalid_request', 'runner url is not a valid URL');
  }
  if (parsedUrl.protocol !== 'ws:' && parsedUrl.protocol !== 'wss:') {
    throw new TowerError('invalid_request', `runner url must be ws:// or wss://, not ${parsedUrl.protocol}`);
  }
  const reconnectMinMs = file.reconnect_min_ms ?? RUNNER_DEFAULTS.reconnectMinMs;
  return {
    url,
    token,
    name: flags.name ?? env.TOWER_RUNNER_NAME ?? file.name ?? hostname,
    labels: splitList(flags.labels) ?? splitList(env.TOWER_RUNNER_LABELS) ?? file.labels ?? [],
    workspace: path.resolve(cwd, flags.workspace ?? env.TOWER_RUNNER_WORKSPACE ?? file.workspace ?? '.'),
    allow: flags.allow ?? splitPatterns(env.TOWER_RUNNER_ALLOW) ?? file.allow ?? [],
    deny: flags.deny ?? splitPatterns(env.TOWER_RUNNER_DENY) ?? file.deny ?? [],
    allowPrivateNet: flags.allowPrivateNet ?? truthy(env.TOWER_RUNNER_ALLOW_PRIVATE_NET) ?? file.allow_private_net ?? false,
    sandbox: parseSandbox(flags.sandbox ?? env.TOWER_RUNNER_SANDBOX ?? file.sandbox ?? 'auto'),
    network: flags.network ?? truthy(env.TOWER_RUNNER_NETWORK) ?? file.network ?? false,
    toolEnv: file.tool_env ?? [],
    heartbeatMs: file.heartbeat_ms ?? RUNNER_DEFAULTS.heartbeatMs,
    reconnectMinMs,
    reconnectMaxMs: Math.max(reconnectMinMs, file.reconnect_max_ms ?? RUNNER_DEFAULTS.reconnectMaxMs),
    welcomeTimeoutMs: file.welcome_timeout_ms ?? RUNNER_DEFAULTS.welcomeTimeoutMs,
  };
}

function parseSandbox(value: string): SandboxMode {
  const parsed = SandboxMode.safeParse(value);
  if (!parsed.success) throw new TowerError('invalid_request', `sandbox must be auto, bwrap or none, not "${value}"`);
  return parsed.data;
}

/** The URL as it may be logged: no query (a seed-004 `?token=`), no user info. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
