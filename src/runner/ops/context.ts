import type { CommandSettings } from '../executor/tool.js';
import type { ShellPolicy } from './shell-policy.js';
import type { McpClients } from './mcp.js';

/** What every runner operation gets besides its args. */
export interface OpContext {
  /** How bash runs: environment, sandbox and the process registry (the executor's own settings). */
  commands: CommandSettings;
  /** Real (symlink-free) absolute path of the runner's workspace. */
  root: string;
  /** The task id; names spilled output files, so they can be traced back to the task. */
  taskId: string;
  signal: AbortSignal;
  /** Live output of a running command (bash), sent as `task.output`. */
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
  /** The operator's bash allow/deny list. */
  shellPolicy: ShellPolicy;
  /** webfetch may reach loopback, private, link-local and CGNAT addresses (the operator's --allow-private-net). */
  allowPrivateNet: boolean;
  mcp: McpClients;
}

/** An operation's outcome as `task.result` carries it. */
export interface OpOutcome {
  success: boolean;
  result?: unknown;
  error?: string;
  exit_code?: number;
}
