import type { ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import { realWorkingDir } from './sandbox.js';
import { fail } from './tool.js';
import type { BuiltinTool } from './tool.js';
import { BUILTIN_TOOLS, BUILTIN_TOOL_NAMES, type BuiltinToolName } from './tools/index.js';

export interface LocalExecutorOptions {
  /** Offer only these tools (in this order); default: all built-in tools. */
  tools?: readonly BuiltinToolName[];
}

/**
 * The built-in tools (read, write, list, glob, grep, bash), confined to `ctx.workingDir`. Depends on nothing
 * server-side, so a remote runner runs exactly this code.
 *
 * Throws only at construction, for an unknown name in `opts.tools` (a programming error). `execute` never
 * throws: bad arguments, refused paths, missing files and failed commands all become `is_error` results.
 */
export function createLocalExecutor(opts: LocalExecutorOptions = {}): ToolExecutor {
  const byName = new Map<string, BuiltinTool>(BUILTIN_TOOLS.map((tool) => [tool.name, tool]));
  const names = opts.tools ?? BUILTIN_TOOL_NAMES;
  const enabled = new Map<string, BuiltinTool>();
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
        return await tool.run(call.args, { ...ctx, root, callId: call.id });
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
