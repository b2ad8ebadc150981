import { mcpErrorText } from '../../protocol/mcp-scrub.js';
import type { McpServerSetting, McpSettings } from '../../protocol/mcp.js';
import type { MCPServerConfig, MCPToolInfo } from '../../protocol/runner.js';
import type { SandboxMode } from '../../protocol/session.js';
import { configKey } from '../../runner/ops/mcp.js';
import type { Logger } from '../logger.js';
import { LocalMcp, type McpBackend, type McpElicitHandler, type McpSelector, type McpStdioSandbox } from './backend.js';
import { McpTurnTools } from './turn-tools.js';

/** How long a turn's start waits for a server's tool list before going on without that server. */
export const MCP_LIST_TIMEOUT_MS = 15_000;
/** Tool lists are reused this long per backend and config hash (a server's tools rarely change mid-session). */
export const MCP_LIST_CACHE_MS = 30_000;
const LIST_CACHE_LIMIT = 500;

/** The stable code of the `error` event a server that could not be listed writes. */
export const MCP_SERVER_FAILED = 'mcp_server_failed';

export interface McpHostOptions {
  /** The config file's `mcp.servers`: every session has them (a session's server of the same name wins). */
  defaults?: readonly McpServerSetting[];
  listTimeoutMs?: number;
  listCacheMs?: number;
  /** For the local clients (tests shorten them). */
  idleMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
  /**
   * The server's sandbox settings (config `sandbox`, `network`, and the paths to hide: the data dir). A
   * session whose sandbox is `bwrap` (its own or this default) starts its stdio servers inside bubblewrap.
   * `auto` does not: servers run through npx/uvx need a writable HOME for their caches.
   */
  sandbox?: { mode: SandboxMode; network: boolean; hide: readonly string[] };
}

/** What a turn's start knows of the session's sandbox. */
export interface McpSessionSandbox {
  sandbox?: SandboxMode | undefined;
  network?: boolean | undefined;
  workingDir: string;
}

export interface McpTurnOptions {
  signal: AbortSignal;
  /** Told of each server that could not be listed (the turn writes an `error` event with `code`). */
  onServerError(code: string, message: string): void;
  /** Answers servers' questions during the turn's calls (local servers only). */
  elicit?: McpElicitHandler;
}

/**
 * The MCP servers of every session of one Tower: at turn start it lists the tools of the session's
 * servers (the config's defaults plus the session's own) on the session's backend (local, or the
 * runner the session's tools go to), each within `listTimeoutMs`, and hands the turn an executor of
 * `mcp__<server>__<tool>` tools. A server that fails is left out with an `error` event; it never fails
 * the turn or another session.
 */
export class McpHost {
  readonly local: LocalMcp;
  private remote: McpSelector | undefined;
  private readonly cache = new Map<string, { tools: MCPToolInfo[]; at: number }>();

  constructor(private readonly opts: McpHostOptions = {}) {
    this.local = new LocalMcp({
      ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
    });
  }

  /** Installs (or, with undefined, removes) the choice of a remote backend per session; applies from the next turn. */
  route(selector: McpSelector | undefined): void {
    this.remote = selector;
  }

  /** A session's servers: the defaults, then its own (replacing a default of the same name). */
  serversOf(settings: McpSettings | undefined): MCPServerConfig[] {
    const own = settings?.servers ?? [];
    const names = new Set(own.map((s) => s.name));
    return [...(this.opts.defaults ?? []).filter((s) => !names.has(s.name)), ...own];
  }

  /** Lists the session's MCP tools for one turn; undefined when it has no servers. */
  async openTurn(
    session: { id: string; runner?: { labels: string[] } | null | undefined; mcp?: McpSettings | undefined; placement?: McpSessionSandbox },
    opts: McpTurnOptions,
  ): Promise<McpTurnTools | undefined> {
    const servers = this.serversOf(session.mcp);
    if (servers.length === 0) return undefined;
    const backend = this.remote?.(session) ?? this.local.for(session.id, this.sandboxOf(session.placement));
    const listed = await Promise.all(
      servers.map(async (server) => {
        try {
          return { server, tools: await this.list(backend, server, opts.signal) };
        } catch (err) {
          // Scrubbed and bounded here whichever backend failed: an older runner may send the SDK's text as is.
          const why = mcpErrorText(server, err);
          return { server, error: why.startsWith(`MCP server ${server.name}`) ? why : `MCP server ${server.name}: ${why}` };
        }
      }),
    );
    const tools = new McpTurnTools(backend, opts.elicit);
    for (const entry of listed) {
      if (entry.tools) {
        tools.add(entry.server, entry.tools);
        continue;
      }
      if (opts.signal.aborted) continue;
      const message = `${entry.error}; its tools are not offered in this turn`;
      this.opts.logger?.warn({ session_id: session.id, server: entry.server.name, err: entry.error }, 'MCP server could not be listed');
      opts.onServerError(MCP_SERVER_FAILED, message);
    }
    return tools;
  }

  /** The bwrap settings for a session's local stdio servers, when its sandbox is `bwrap`. */
  private sandboxOf(placement: McpSessionSandbox | undefined): McpStdioSandbox | null {
    const defaults = this.opts.sandbox;
    if (!placement || (placement.sandbox ?? defaults?.mode) !== 'bwrap') return null;
    return { root: placement.workingDir, network: placement.network ?? defaults?.network ?? false, hide: defaults?.hide ?? [] };
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.local.close();
  }

  private async list(backend: McpBackend, server: MCPServerConfig, turnSignal: AbortSignal): Promise<MCPToolInfo[]> {
    const key = `${backend.key}\u0000${configKey(server)}`;
    const hit = this.cache.get(key);
    const ttl = this.opts.listCacheMs ?? MCP_LIST_CACHE_MS;
    if (hit && Date.now() - hit.at < ttl) return hit.tools;
    const timeoutMs = this.opts.listTimeoutMs ?? MCP_LIST_TIMEOUT_MS;
    const signal = AbortSignal.any([turnSignal, AbortSignal.timeout(timeoutMs)]);
    // The signal ends the request; the race also ends a connect still under way (it goes on, bounded by
    // its own timeout, and its client is cached or dropped).
    const tools = await new Promise<MCPToolInfo[]>((resolve, reject) => {
      const onAbort = (): void => reject(new Error(turnSignal.aborted ? 'the turn ended' : `no tool list within ${Math.round(timeoutMs / 100) / 10} s`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      backend.listTools(server, signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
    if (this.cache.size >= LIST_CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { tools, at: Date.now() });
    return tools;
  }
}
