import { mcpErrorText } from '../../protocol/mcp-scrub.js';
import type { MCPServerConfig, MCPToolInfo } from '../../protocol/runner.js';
import type { ToolResult } from '../../protocol/tools.js';
import { McpClients, type McpElicitAnswer, type McpElicitHandler, type McpElicitation, type McpStdioSandbox } from '../../runner/ops/mcp.js';

export type { McpElicitAnswer, McpElicitHandler, McpElicitation, McpStdioSandbox };

export interface McpCallContext {
  signal: AbortSignal;
  /** Answers the server's questions (`elicitation/create`) while the call runs; absent: declined. */
  elicit?: McpElicitHandler;
}

/**
 * Where a session's MCP servers run: on the Tower server (`LocalMcp`) or on a remote runner (the
 * runner transport's backend, over the `mcp_list_tools` / `mcp_call` operations).
 */
export interface McpBackend {
  /** Keys the listing cache with the server config's hash: tools listed here are not another backend's. */
  readonly key: string;
  listTools(server: MCPServerConfig, signal: AbortSignal): Promise<MCPToolInfo[]>;
  /** Never throws for a server's failures: they become error results the model reads. */
  callTool(server: MCPServerConfig, tool: string, args: Record<string, unknown>, ctx: McpCallContext): Promise<ToolResult>;
}

/** Picks a session's MCP backend (the runner transport routes by the session's placement); undefined: local. */
export type McpSelector = (session: { id: string; runner?: { labels: string[] } | null | undefined }) => McpBackend | undefined;

interface SessionClients {
  clients: McpClients;
  /** The handler of the call running now (a session runs its tool calls one after another). */
  elicit: McpElicitHandler | undefined;
  /** Where the session's stdio servers start (its latest turn's sandbox); null: outside any. */
  sandbox: McpStdioSandbox | null;
}

/**
 * MCP servers run by Tower itself, with the runner's client code (`runner/ops/mcp.ts`: clients cached by
 * the config's hash, closed when idle, connect and call timeouts). Clients are kept per session: a
 * server's question must reach the session whose call it belongs to, and the SDK does not say which
 * request a server's request relates to. A session whose clients all closed is forgotten.
 */
export class LocalMcp {
  private readonly sessions = new Map<string, SessionClients>();

  constructor(private readonly opts: { idleMs?: number; connectTimeoutMs?: number } = {}) {}

  /** Sessions holding clients now (for tests of the bound). */
  get size(): number {
    return this.sessions.size;
  }

  /** The session's backend; `sandbox` (the session's sandbox is `bwrap`) applies to servers started from now on. */
  for(sessionId: string, sandbox: McpStdioSandbox | null = null): McpBackend {
    this.clientsOf(sessionId).sandbox = sandbox;
    return {
      key: 'local',
      listTools: (server, signal) => this.clientsOf(sessionId).clients.listTools(server, signal),
      callTool: async (server, tool, args, ctx) => {
        const entry = this.clientsOf(sessionId);
        entry.elicit = ctx.elicit;
        try {
          const res = await entry.clients.callTool(server, tool, args, undefined, ctx.signal);
          return { output: res.content, is_error: res.isError };
        } catch (err) {
          return { output: mcpErrorText(server, err), is_error: true };
        } finally {
          if (entry.elicit === ctx.elicit) entry.elicit = undefined;
        }
      },
    };
  }

  /** Closes a session's servers (it was deleted). */
  async forget(sessionId: string): Promise<void> {
    const entry = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    await entry?.clients.closeAll();
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((e) => e.clients.closeAll()));
  }

  private clientsOf(sessionId: string): SessionClients {
    this.sweep(sessionId);
    let entry = this.sessions.get(sessionId);
    if (!entry) {
      const created: SessionClients = {
        elicit: undefined,
        sandbox: null,
        clients: new McpClients({
          clientName: 'tower',
          ...this.opts,
          sandbox: () => created.sandbox,
          elicit: (request, signal) => (created.elicit ? created.elicit(request, signal) : Promise.resolve({ action: 'decline' })),
        }),
      };
      entry = created;
      this.sessions.set(sessionId, created);
    }
    return entry;
  }

  /** Drops sessions whose clients were all closed (idle), so the map follows live servers, not sessions ever seen. */
  private sweep(keep: string): void {
    for (const [id, entry] of this.sessions) {
      if (id !== keep && entry.clients.size === 0 && entry.elicit === undefined) this.sessions.delete(id);
    }
  }
}
