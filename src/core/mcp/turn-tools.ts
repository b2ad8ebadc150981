import { isRecord } from '../../protocol/guards.js';
import type { MCPServerConfig, MCPToolInfo } from '../../protocol/runner.js';
import type { ToolCallRequest, ToolContext, ToolExecutor, ToolResult, ToolSpec } from '../../protocol/tools.js';
import type { ToolCategory } from '../permissions/index.js';
import type { McpBackend, McpElicitHandler } from './backend.js';
import { mcpToolName } from './names.js';

interface Entry {
  server: MCPServerConfig;
  tool: string;
  spec: ToolSpec;
  readOnly: boolean;
}

/**
 * One turn's MCP tools: `mcp__<server>__<tool>` specs with each server's JSON Schema, and their calls
 * sent to the session's backend. Permissions see them as tools of unknown effect (asked for under the
 * balanced and strict policies) unless the server annotates a tool `readOnlyHint`.
 */
export class McpTurnTools implements ToolExecutor {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly backend: McpBackend,
    private readonly elicit: McpElicitHandler | undefined,
  ) {}

  add(server: MCPServerConfig, tools: readonly MCPToolInfo[]): void {
    const taken = new Set(this.entries.keys());
    for (const info of tools) {
      const name = mcpToolName(server.name, info.name, taken);
      taken.add(name);
      const described = info.description ? `${info.description} ` : '';
      this.entries.set(name, {
        server,
        tool: info.name,
        readOnly: info.annotations?.readOnlyHint === true,
        spec: { name, description: `${described}(tool "${info.name}" of MCP server "${server.name}")`, parameters: parametersOf(info.input_schema) },
      });
    }
  }

  specs(): ToolSpec[] {
    return [...this.entries.values()].map((e) => e.spec);
  }

  /** Categories for the permission engine: `read_only` for tools annotated so; others stay unknown. */
  categories(): Record<string, ToolCategory> {
    const out: Record<string, ToolCategory> = {};
    for (const [name, e] of this.entries) if (e.readOnly) out[name] = 'read_only';
    return out;
  }

  async execute(call: ToolCallRequest, ctx: ToolContext): Promise<ToolResult> {
    const entry = this.entries.get(call.name);
    if (!entry) return { output: `unknown tool ${call.name}`, is_error: true };
    const args = call.args ?? {};
    if (!isRecord(args)) return { output: `${call.name}: the arguments must be a JSON object`, is_error: true };
    return this.backend.callTool(entry.server, entry.tool, args, {
      signal: ctx.signal,
      ...(this.elicit ? { elicit: this.elicit } : {}),
    });
  }
}

/** A tool's input schema as a function's parameters: an object schema, without `$schema` (some providers refuse it). */
function parametersOf(schema: unknown): Record<string, unknown> {
  if (!isRecord(schema)) return { type: 'object', properties: {} };
  const { $schema: _dialect, ...rest } = schema;
  return rest.type === 'object' ? rest : { ...rest, type: 'object', properties: rest.properties ?? {} };
}
