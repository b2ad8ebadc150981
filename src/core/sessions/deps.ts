import type { McpServerSetting } from '../../protocol/mcp.js';
import type { Permissions, SandboxMode } from '../../protocol/session.js';
import type { ToolExecutor } from '../../protocol/tools.js';
import type { SessionRecord, Store } from '../../store/types.js';
import type { EventLog } from '../event-log/index.js';
import type { Logger } from '../logger.js';
import type { ModelInfo, ModelStepper, StepUsage } from '../models/types.js';
import type { SessionClaim } from './claim.js';

/** What the session manager and its parts (turn runner, control) are built from. */

/** What the session manager needs to know about models. */
export interface ModelCatalog {
  has(id: string): boolean;
  list(): ModelInfo[];
  cost(id: string, usage: StepUsage): number;
}

export type TitleGenerator = (model: string, firstMessage: string, signal: AbortSignal) => Promise<string | undefined>;

export interface SessionDefaults {
  workingDir: string;
  model: string;
  maxIterations: number;
  permissions: Permissions;
  /** The config's `mcp.servers`: every session's tools include theirs. */
  mcpServers?: McpServerSetting[];
  /** The config's MCP listing limits in ms (absent: `MCP_LIST_TIMEOUT_MS`, `MCP_LIST_CACHE_MS`). */
  mcpListTimeoutMs?: number;
  mcpListCacheMs?: number;
  /** The server's sandbox settings, for sessions' local stdio MCP servers (see `McpHostOptions.sandbox`). */
  mcpSandbox?: { mode: SandboxMode; network: boolean; hide: readonly string[] };
}

export interface SessionManagerDeps {
  store: Store;
  log: EventLog;
  stepper: ModelStepper;
  executor: ToolExecutor;
  models: ModelCatalog;
  titler?: TitleGenerator;
  logger: Logger;
  defaults: SessionDefaults;
  /** Single writer per session across processes (default: in-process only). */
  claims?: SessionClaim;
  /**
   * Picks the executor of a session's turn (remote runners route by the session's `runner` labels);
   * undefined, or a result of undefined, means `executor`. Set after start-up with `routeTools`.
   */
  executorFor?: ExecutorSelector | undefined;
}

/** `local` is the server's executor (tools a remote executor does not serve can run there). */
export type ExecutorSelector = (session: SessionRecord, local: ToolExecutor) => ToolExecutor | undefined;
