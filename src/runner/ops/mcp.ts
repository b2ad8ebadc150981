import { createHash } from 'node:crypto';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { TowerError } from '../../protocol/errors.js';
import { mcpErrorText } from '../../protocol/mcp-scrub.js';
import type { MCPServerConfig, MCPToolInfo } from '../../protocol/runner.js';
import { bwrapArgs, type BwrapOptions } from '../bwrap.js';
import { chooseSandbox } from '../executor/os-sandbox.js';
import { realWorkingDir } from '../executor/sandbox.js';
import { isRecord } from '../../protocol/guards.js';

export const MCP_CONNECT_TIMEOUT_MS = 30_000;
export const MCP_CALL_TIMEOUT_MS = 60_000;
export const MCP_IDLE_CLOSE_MS = 5 * 60_000;

export interface McpCallOutcome {
  content: string;
  isError: boolean;
}

/** A server's `elicitation/create` (form mode): a message and the restricted JSON Schema of the answer. */
export interface McpElicitation {
  message: string;
  schema: Record<string, unknown>;
}
export interface McpElicitAnswer {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}
/** Answers a server's question; without one, clients declare no elicitation capability (servers must not ask). */
export type McpElicitHandler = (request: McpElicitation, signal: AbortSignal) => Promise<McpElicitAnswer>;

/**
 * Stdio servers run inside bubblewrap, as bash does under sandbox `bwrap`: `root` (the session's working
 * directory) is the one writable place besides a private /tmp, `hide` paths are covered, the network only
 * when `network`. bwrap that does not work is an error, never a silent run outside it.
 */
export interface McpStdioSandbox {
  root: string;
  network: boolean;
  hide: readonly string[];
}

export interface McpClientsOptions {
  /** Asked at each connect: the sandbox stdio servers start in; absent or null: none. */
  sandbox?: () => McpStdioSandbox | null | undefined;
  idleMs?: number;
  connectTimeoutMs?: number;
  clientName?: string;
  elicit?: McpElicitHandler;
}

/**
 * MCP clients of one runner, cached by a hash of the whole server config (not its name: two sessions may
 * give the same name to different servers, and a changed config must not reuse the old process). A client
 * is closed after `idleMs` without use, and dropped when its transport closes, so the next call reconnects.
 */
export class McpClients {
  private readonly entries = new Map<string, { client: Promise<Client>; timer: NodeJS.Timeout | null; busy: number }>();

  constructor(private readonly opts: McpClientsOptions = {}) {}

  get size(): number {
    return this.entries.size;
  }

  async listTools(server: MCPServerConfig, signal?: AbortSignal): Promise<MCPToolInfo[]> {
    return this.use(server, async (client) => {
      const tools: MCPToolInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: MCP_CALL_TIMEOUT_MS, ...(signal ? { signal } : {}) });
        for (const t of page.tools) {
          tools.push({ name: t.name, description: t.description ?? '', input_schema: t.inputSchema, ...(t.annotations ? { annotations: t.annotations } : {}) });
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return tools;
    });
  }

  async callTool(server: MCPServerConfig, name: string, args: unknown, timeoutMs = MCP_CALL_TIMEOUT_MS, signal?: AbortSignal): Promise<McpCallOutcome> {
    if (args !== undefined && args !== null && (typeof args !== 'object' || Array.isArray(args))) {
      throw new TowerError('invalid_request', 'MCP tool arguments must be a JSON object');
    }
    return this.use(server, async (client) => {
      const res = await client.callTool(
        { name, arguments: (args ?? {}) as Record<string, unknown> },
        undefined,
        { timeout: timeoutMs, ...(signal ? { signal } : {}) },
      );
      return { content: contentText(res), isError: res.isError === true };
    });
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map(async (e) => {
      if (e.timer) clearTimeout(e.timer);
      await closeQuietly(e.client);
    }));
  }

  private async use<T>(server: MCPServerConfig, fn: (client: Client) => Promise<T>): Promise<T> {
    const wanted = server.transport === 'stdio' ? this.opts.sandbox?.() : null;
    // A changed sandbox is another process: the key says so, so the old client is not reused.
    const key = wanted ? `${configKey(server)}\u0000bwrap${canonical(wanted)}` : configKey(server);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const created = { client: this.connect(server, key, wanted ?? null), timer: null as NodeJS.Timeout | null, busy: 0 };
      entry = created;
      this.entries.set(key, created);
      created.client.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.busy += 1;
    try {
      return await fn(await entry.client);
    } catch (err) {
      throw toTowerError(server, err);
    } finally {
      entry.busy -= 1;
      this.armIdle(key, entry);
    }
  }

  private armIdle(key: string, entry: { client: Promise<Client>; timer: NodeJS.Timeout | null; busy: number }): void {
    if (entry.busy > 0 || this.entries.get(key) !== entry) return;
    entry.timer = setTimeout(() => {
      if (this.entries.get(key) !== entry || entry.busy > 0) return;
      this.entries.delete(key);
      void closeQuietly(entry.client);
    }, this.opts.idleMs ?? MCP_IDLE_CLOSE_MS);
    entry.timer.unref();
  }

  private async connect(server: MCPServerConfig, key: string, sandbox: McpStdioSandbox | null): Promise<Client> {
    const bwrap = sandbox ? await bwrapFor(sandbox) : null;
    const elicit = this.opts.elicit;
    const client = new Client({ name: this.opts.clientName ?? 'tower-runner', version: '1' }, elicit ? { capabilities: { elicitation: { form: {} } } } : {});
    if (elicit) {
      client.setRequestHandler(ElicitRequestSchema, async (request, extra): Promise<ElicitResult> => {
        const params = request.params;
        // Only form mode is declared, so the SDK refuses URL mode before it gets here.
        if (params.mode === 'url') return { action: 'decline' };
        const answer = await elicit({ message: params.message, schema: params.requestedSchema as Record<string, unknown> }, extra.signal);
        return { action: answer.action, ...(answer.action === 'accept' && answer.content ? { content: answer.content as ElicitResult['content'] } : {}) };
      });
    }
    const transport = makeTransport(server, bwrap);
    transport.onclose = () => {
      const entry = this.entries.get(key);
      if (entry && entry.client === connecting) this.entries.delete(key);
    };
    const connecting = (async () => {
      try {
        await client.connect(transport, { timeout: this.opts.connectTimeoutMs ?? MCP_CONNECT_TIMEOUT_MS });
      } catch (err) {
        await client.close().catch(() => undefined);
        throw err;
      }
      return client;
    })();
    return connecting;
  }
}

/** The bwrap settings for a stdio server; throws (`tool_failed`) when bubblewrap does not work here. */
async function bwrapFor(sandbox: McpStdioSandbox): Promise<BwrapOptions> {
  const root = await realWorkingDir(sandbox.root);
  const choice = await chooseSandbox({ mode: 'bwrap', network: sandbox.network, hide: sandbox.hide, root });
  if (choice.kind !== 'bwrap') throw new TowerError('tool_failed', 'sandbox "bwrap" is required but bubblewrap is not available');
  return { ...choice.options, root };
}

/**
 * What a sandboxed stdio server must still see if it lives under /tmp: the directory it starts in
 * (Tower's, with the node_modules a relative `--import` resolves from), its command's directory and the
 * directories of absolute paths among its arguments (a script).
 */
function serverPaths(command: string, args: readonly string[]): string[] {
  const paths = [process.cwd()];
  for (const p of [command, ...args]) {
    if (!path.isAbsolute(p)) continue;
    const dir = path.dirname(p);
    // Never the whole of /tmp: a script directly in it is kept alone.
    paths.push(dir === '/tmp' ? p : dir);
  }
  return paths;
}

function makeTransport(server: MCPServerConfig, bwrap: BwrapOptions | null): Transport {
  if (server.transport === 'stdio') {
    if (!server.command) throw new TowerError('invalid_request', `MCP server ${server.name}: stdio needs a command`);
    const args = server.args ?? [];
    return new StdioClientTransport({
      // Started where an unsandboxed server starts (Tower's directory), so relative commands mean the same.
      ...(bwrap
        ? { command: 'bwrap', args: [...bwrapArgs({ ...bwrap, chdir: process.cwd(), keep: serverPaths(server.command, args) }), '--', server.command, ...args] }
        : { command: server.command, args }),
      // Only PATH and HOME from the runner itself: its token must not reach a third-party server.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(server.env ?? {}) },
      stderr: 'ignore',
    });
  }
  if (!server.url) throw new TowerError('invalid_request', `MCP server ${server.name}: ${server.transport} needs a url`);
  let url: URL;
  try {
    url = new URL(server.url);
  } catch {
    throw new TowerError('invalid_request', `MCP server ${server.name}: invalid url`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TowerError('invalid_request', `MCP server ${server.name}: url must be http or https`);
  // dynamic_headers are resolved by the control plane before dispatch; here they are headers like any other.
  const headers = { ...(server.headers ?? {}), ...(server.dynamic_headers ?? {}) };
  return new StreamableHTTPClientTransport(url, { requestInit: { headers } });
}

/** Key of a server config: every field counts, in a canonical order. */
export function configKey(server: MCPServerConfig): string {
  return createHash('sha256').update(canonical(server)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function contentText(res: unknown): string {
  const parts = (res as { content?: unknown }).content;
  if (!Array.isArray(parts)) {
    const structured = (res as { toolResult?: unknown; structuredContent?: unknown }).structuredContent ?? (res as { toolResult?: unknown }).toolResult;
    return structured === undefined ? '' : JSON.stringify(structured);
  }
  return parts
    .map((p: unknown) => {
      if (isRecord(p) && p.type === 'text') return String(p.text ?? '');
      return JSON.stringify(p);
    })
    .join('\n');
}

/**
 * The SDK's errors quote what it was handed (the URL with its query, headers, a spawn's environment), so
 * the message is scrubbed of the server's secrets and bounded before it goes anywhere (a task result, an
 * event); the original error is not kept as a cause for the same reason.
 */
function toTowerError(server: MCPServerConfig, err: unknown): TowerError {
  const message = mcpErrorText(server, err);
  if (err instanceof TowerError) return new TowerError(err.code, message);
  return new TowerError('tool_failed', message.startsWith(`MCP server ${server.name}`) ? message : `MCP server ${server.name}: ${message}`);
}

async function closeQuietly(client: Promise<Client>): Promise<void> {
  try {
    await (await client).close();
  } catch {
    // Connection failed or is already closed: nothing left to release.
  }
}
