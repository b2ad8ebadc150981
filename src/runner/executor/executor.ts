import type { ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import type { SandboxMode } from '../../protocol/session.js';
import { MemoryProcessRegistry, type ProcessRegistry } from '../process-registry.js';
import type { RunnerLogger } from '../reap.js';
import { realWorkingDir } from './sandbox.js';
import { toolEnvironment } from './tool-env.js';
import { fail } from './tool.js';
import type { BuiltinTool, CommandSettings, WebAccess } from './tool.js';
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

  // One array for every call (turns ask for it per step); frozen, as every session's executor shares it.
  const specs = Object.freeze([...enabled.values()].map((tool) => tool.spec)) as ToolSpec[];
  const settingsOf = commandSettings(opts, registry);

  return {
    specs(): ToolSpec[] {
      return specs;
    },

    async execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult> {
      const tool = enabled.get(call.name);
      if (tool === undefined) {
        return fail(`unknown tool ${call.name}; available tools: ${[...enabled.keys()].join(', ')}`);
      }
      if (ctx.signal.aborted) return fail(`${call.name} was canceled before it started`);
      try {
        const root = await realWorkingDir(ctx.workingDir);
        return await tool.run(call.args, { ...ctx, root, callId: call.id, commands: settingsOf(ctx), web });
      } catch (err) {
        return fail(describeFailure(call.name, err));
      }
    },
  };
}

/**
 * How a call's commands run, made once per executor rather than per call (a read pays for none of it).
 * The environment is read from `envSource` when the executor is made, as `tower runner` reads its own
 * at start: the server makes its executor once, after clearing its initial environment block, and
 * changes neither its environment nor the executor's config later (a new `tool_env`, sandbox or network
 * setting means a new executor). The settings are frozen, so a tool cannot leave anything in them for
 * the next call. A call with variables of its own (`ctx.env`) gets them merged over the base, per call.
 */
function commandSettings(opts: LocalExecutorOptions, registry: ProcessRegistry): (ctx: ToolContext) => CommandSettings {
  const base = Object.freeze(toolEnvironment(opts.envSource ?? process.env, opts.envAllow));
  const hide = Object.freeze([...(opts.hide ?? [])]);
  const make = (sandbox: SandboxMode, network: boolean, env: Record<string, string>): CommandSettings =>
    Object.freeze({ registry, sandbox, network, hide, env, ...(opts.logger ? { logger: opts.logger } : {}) });
  const cache = new Map<string, CommandSettings>();
  return (ctx) => {
    const sandbox = ctx.sandbox ?? opts.sandbox ?? 'auto';
    const network = ctx.network ?? opts.network ?? false;
    if (ctx.env !== undefined) return make(sandbox, network, Object.freeze({ ...base, ...toolEnvironment({}, [], ctx.env) }));
    const key = `${sandbox}:${network}`;
    let settings = cache.get(key);
    if (settings === undefined) cache.set(key, (settings = make(sandbox, network, base)));
    return settings;
  };
}

/** Turns anything a tool threw into a sentence the model can act on. */
function describeFailure(toolName: string, err: unknown): string {
  if (isTowerError(err)) return err.message;
  if (err instanceof Error) return `${toolName} failed: ${err.message}`;
  return `${toolName} failed: ${String(err)}`;
}
