import type { McpBackend } from '../../core/mcp/index.js';
import { mcpErrorText } from '../../protocol/mcp-scrub.js';
import { MCPCallResult, MCPListToolsResult, type MCPServerConfig, type MCPToolInfo } from '../../protocol/runner.js';
import type { ToolResult } from '../../protocol/tools.js';
import type { RunnerDispatcher } from './runner-dispatch.js';
import { truncNote } from './tool-mapping.js';

/**
 * A session's MCP servers run on the runner its tools go to, through seed 004's `mcp_list_tools` and
 * `mcp_call` operations (cancellable like any task; long results are saved on the runner). The runner's
 * MCP clients declare no elicitation capability, so a server there cannot ask the person: elicitation
 * works for servers Tower runs itself only.
 */
export class RunnerMcpBackend implements McpBackend {
  readonly key: string;

  constructor(private readonly runners: RunnerDispatcher) {
    this.key = `runner:${[...runners.opts.labels].sort().join(',')}`;
  }

  async listTools(server: MCPServerConfig, signal: AbortSignal): Promise<MCPToolInfo[]> {
    const sent = await this.runners.dispatch('mcp_list_tools', { server }, `MCP server ${server.name}`, signal);
    if ('output' in sent) throw new Error(`MCP server ${server.name}: ${sent.output}`);
    if (!sent.result.success) throw new Error(sent.result.error ?? `MCP server ${server.name}: listing failed on runner ${sent.runner.name}`);
    const parsed = MCPListToolsResult.safeParse(sent.result.result);
    if (!parsed.success) throw new Error(`MCP server ${server.name}: runner ${sent.runner.name} answered a tool list of the wrong shape`);
    return parsed.data.tools;
  }

  async callTool(server: MCPServerConfig, tool: string, args: Record<string, unknown>, ctx: { signal: AbortSignal }): Promise<ToolResult> {
    const sent = await this.runners.dispatch('mcp_call', { server, tool_name: tool, args }, `${tool} of MCP server ${server.name}`, ctx.signal);
    if ('output' in sent) return sent;
    const runner = sent.runner;
    if (!sent.result.success) return { output: sent.result.error !== undefined ? mcpErrorText(server, sent.result.error) : `${tool} failed on runner ${runner.name}`, is_error: true, runner };
    const parsed = MCPCallResult.safeParse(sent.result.result);
    if (!parsed.success) return { output: `runner ${runner.name} answered ${tool} with a result of the wrong shape`, is_error: true, runner };
    return { output: parsed.data.content + truncNote(parsed.data), is_error: parsed.data.is_error === true, runner };
  }
}
