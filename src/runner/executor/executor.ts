import type { ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import type { SandboxMode } from '../../protocol/session.js';
import { MemoryProcessRegistry, type ProcessRegistry } from '../process-registry.js';
import type { RunnerLogger } from '../reap.js';
import { realWorkingDir } from './sandbox.js';
import { toolEnvironment } from './tool-env.js';
import { fail } from './tool.js';
import type { BuiltinTool, WebAccess } from './tool.js';
import { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES, type BuiltinToolName } from './tools/index.js';

export interface LocalExecutorOptions {
  /** Offer only these tools (in this order); default: all built-in tools. */
  tools?: readonly BuiltinToolName[];
  /** Where running commands are recorded for crash recovery; default: in memory only. */
  processes?: ProcessRegistry;
  /** Default sandbox mode (a session may override it); default `auto`. */
  sandbox?: SandboxMode;
  /** Default network access inside the sandbox; default off. */
  network?: boolean;
  /** Names of variables passed from `envSource` to commands besides the base set (config `tool_env`). */
  envAllow?: readonly string[];
  /** Where command variables come from; default `process.env`. */
  envSource?: NodeJS.ProcessEnv;
  /** Paths hidden from sandboxed commands (the data dir with the token and database). */
  hide?: readonly string[];
  logger?: RunnerLogger;
  /** What webfetch may reach; default: public addresses only. */
  web?: WebAccess;
}

/**
 * The built-in tools (read, write, list, glob, grep, bash, webfetch), confined to `ctx.workingDir`. Depends on nothing
 * server-side, so a remote runner runs exactly this code.
 *
 * Throws only at construction, for an unknown name in `opts.tools` (a programming error). `execute` never
 * throws: bad arguments, refused paths, missing files and failed commands all become `is_error` results.
 */
export function createLocalExecutor(opts: LocalExecutorOptions = {}): ToolExecutor {
  const byName = new Map<string, BuiltinTool>(BUILTIN_TOOLS.map((tool) => [tool.name, tool]));
  const names = opts.tools ?? BUILTIN_TOOL_NAMES;
  const registry = opts.processes ?? new MemoryProcessRegistry();
  const enabled = new Map<string, BuiltinTool>();
  const web: WebAccess = opts.web ?? { allowPrivateNet: false };
  for (const name of names) {
    const tool = byName.get(name);
    if (tool === undefined) {
      throw new TowerError('invalid_request', `unknown built-in tool "${String(name)}"; known: ${BUILTIN_TOOL_NAMES.join(', ')}`);
    }
    enabled.set(name, tool);
  }

  return {
    specs(): ToolSpec[] {
      return [...enabled.values()].map((tool) => tool.spec);
    },

    async execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult> {
      const tool = enabled.get(call.name);
      if (tool === undefined) {
        return fail(`unknown tool ${call.name}; available tools: ${[...enabled.keys()].join(', ')}`);
      }
      if (ctx.signal.aborted) return fail(`${call.name} was canceled before it started`);
      try {
        const root = await realWorkingDir(ctx.workingDir);
        const commands = {
          registry,
          sandbox: ctx.sandbox ?? opts.sandbox ?? 'auto',
          network: ctx.network ?? opts.network ?? false,
          hide: opts.hide ?? [],
          env: toolEnvironment(opts.envSource ?? process.env, opts.envAllow, ctx.env),
          ...(opts.logger ? { logger: opts.logger } : {}),
        };
        return await tool.run(call.args, { ...ctx, root, callId: call.id, commands, web });
      } catch (err) {
        return fail(describeFailure(call.name, err));
      }
    },
  };
}

/** Turns anything a tool threw into a sentence the model can act on. */
function describeFailure(toolName: string, err: unknown): string {
  if (isTowerError(err)) return err.message;
  if (err instanceof Error) return `${toolName} failed: ${err.message}`;
  return `${toolName} failed: ${String(err)}`;
}
