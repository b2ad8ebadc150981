import { isTowerError } from '../../protocol/errors.js';
import { parseOperationArgs, type MCPCallResult, type OperationArgs, type TaskOperation } from '../../protocol/runner.js';
import { bashOp } from './bash.js';
import type { OpContext, OpOutcome } from './context.js';
import { globOp, listOp, readOp, writeOp } from './fs-ops.js';
import { grepOp } from './grep.js';
import { MCP_CALL_TIMEOUT_MS } from './mcp.js';
import { syncSkillOp } from './skill.js';
import { spillIfLong } from './spill.js';
import { webfetchOp } from './webfetch.js';

const ok = (result: unknown): OpOutcome => ({ success: true, result });

type Handlers = { [O in TaskOperation]: (args: OperationArgs[O], ctx: OpContext) => Promise<OpOutcome> };

const HANDLERS: Handlers = {
  read: async (args, ctx) => ok(await readOp(args, ctx)),
  write: async (args, ctx) => ok(await writeOp(args, ctx)),
  list: async (args, ctx) => ok(await listOp(args, ctx)),
  glob: async (args, ctx) => ok(await globOp(args, ctx)),
  grep: async (args, ctx) => ok(await grepOp(args, ctx)),
  bash: async (args, ctx) => {
    ctx.shellPolicy.check(args.command);
    return bashOp(args, ctx);
  },
  webfetch: async (args, ctx) => ok(await webfetchOp(args, ctx)),
  mcp_list_tools: async (args, ctx) => ok({ tools: await ctx.mcp.listTools(args.server, ctx.signal) }),
  mcp_call: async (args, ctx) => {
    const timeoutMs = args.timeout === undefined ? MCP_CALL_TIMEOUT_MS : args.timeout * 1000;
    const res = await ctx.mcp.callTool(args.server, args.tool_name, args.args, timeoutMs, ctx.signal);
    const { text, ...truncation } = await spillIfLong(res.content, ctx.root, ctx.taskId, 'mcp');
    const result: MCPCallResult = { content: text, ...(res.isError ? { is_error: true } : {}), ...truncation };
    return ok(result);
  },
  sync_skill: async (args, ctx) => ok(await syncSkillOp(args, ctx)),
};

/**
 * Runs one `task.request` operation. Never throws: bad args, refused paths and commands, and failures all
 * become `{success: false, error}` with a sentence the caller (often a model) can act on.
 */
export async function runOperation(operation: TaskOperation, args: unknown, ctx: OpContext): Promise<OpOutcome> {
  const parsed = parseOperationArgs(operation, args);
  if (!parsed.ok) return { success: false, error: parsed.message };
  try {
    const handler = HANDLERS[operation] as (args: unknown, ctx: OpContext) => Promise<OpOutcome>;
    return await handler(parsed.args, ctx);
  } catch (err) {
    if (isTowerError(err)) return { success: false, error: err.message };
    return { success: false, error: `${operation} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
