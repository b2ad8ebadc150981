import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MCP_ERROR_CHARS } from '../../protocol/mcp-scrub.js';
import type { MCPServerConfig, MCPToolInfo } from '../../protocol/runner.js';
import type { Logger } from '../logger.js';
import type { McpBackend } from './backend.js';
import { McpHost, MCP_SERVER_FAILED } from './host.js';
import { MAX_TOOL_NAME, mcpToolName } from './names.js';
import { McpTurnTools } from './turn-tools.js';

describe('MCP tool names', () => {
  it('are mcp__<server>__<tool> with characters outside [A-Za-z0-9_-] replaced', () => {
    expect(mcpToolName('github', 'create_issue', new Set())).toBe('mcp__github__create_issue');
    expect(mcpToolName('my.server', 'get file/v2', new Set())).toBe('mcp__my_server__get_file_v2');
  });

  it('stay unique and within 64 characters, the same from call to call', () => {
    const taken = new Set(['mcp__s__a_b']);
    const clash = mcpToolName('s', 'a.b', taken);
    expect(clash).not.toBe('mcp__s__a_b');
    expect(clash).toMatch(/^mcp__s__a_b_[0-9a-f]{8}$/);
    expect(mcpToolName('s', 'a.b', taken)).toBe(clash);
    const long = mcpToolName('server', 'x'.repeat(100), new Set());
    expect(long.length).toBe(MAX_TOOL_NAME);
    expect(long).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(mcpToolName('server', `${'x'.repeat(100)}y`, new Set())).not.toBe(long);
  });
});

const server: MCPServerConfig = { name: 'fake', transport: 'sse', url: 'http://127.0.0.1:1/mcp' };
const tool = (name: string, extra: Partial<MCPToolInfo> = {}): MCPToolInfo => ({ name, description: `${name} tool`, input_schema: { $schema: 'x', type: 'object', properties: { a: { type: 'string' } } }, ...extra });

/** A backend whose listing the test controls, counting the calls. */
function fakeBackend(list: (signal: AbortSignal) => Promise<MCPToolInfo[]>): McpBackend & { lists: number; calls: unknown[] } {
  const b = {
    key: 'fake',
    lists: 0,
    calls: [] as unknown[],
    listTools: async (_s: MCPServerConfig, signal: AbortSignal) => {
      b.lists += 1;
      return list(signal);
    },
    callTool: async (_s: MCPServerConfig, name: string, args: Record<string, unknown>) => {
      b.calls.push({ name, args });
      return { output: `called ${name}`, is_error: false };
    },
  };
  return b;
}

let host: McpHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const session = (servers: MCPServerConfig[]) => ({ id: 's1', mcp: { servers } });

describe('McpHost', () => {
  it('gives the specs the server schema (without $schema) and read_only only to tools annotated so', async () => {
    host = new McpHost();
    const backend = fakeBackend(async () => [tool('look', { annotations: { readOnlyHint: true } }), tool('change'), tool('x', { input_schema: 'junk' })]);
    host.route(() => backend);
    const errors: string[] = [];
    const tools = await host.openTurn(session([server]), { signal: new AbortController().signal, onServerError: (c) => errors.push(c) });
    expect(errors).toEqual([]);
    expect(tools?.specs().map((s) => s.name)).toEqual(['mcp__fake__look', 'mcp__fake__change', 'mcp__fake__x']);
    expect(tools?.specs()[0]?.parameters).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
    expect(tools?.specs()[2]?.parameters).toEqual({ type: 'object', properties: {} });
    expect(tools?.categories()).toEqual({ mcp__fake__look: 'read_only' });
    const signal = new AbortController().signal;
    expect(await tools?.execute({ id: 'c', name: 'mcp__fake__change', args: { a: '1' } }, { workingDir: '/', signal })).toEqual({ output: 'called change', is_error: false });
    expect(await tools?.execute({ id: 'c', name: 'mcp__fake__change', args: [1] }, { workingDir: '/', signal })).toMatchObject({ is_error: true, output: expect.stringContaining('JSON object') });
    expect(backend.calls).toEqual([{ name: 'change', args: { a: '1' } }]);
  });

  it('reuses a tool list per config hash for listCacheMs; a failure is not cached', async () => {
    host = new McpHost({ listCacheMs: 60_000 });
    let fail = true;
    const backend = fakeBackend(async () => {
      if (fail) throw new Error('boom');
      return [tool('a')];
    });
    host.route(() => backend);
    const open = () => host!.openTurn(session([server]), { signal: new AbortController().signal, onServerError: () => undefined });
    expect((await open())?.specs()).toEqual([]);
    fail = false;
    expect((await open())?.specs()).toHaveLength(1);
    expect((await open())?.specs()).toHaveLength(1);
    expect(backend.lists).toBe(2);
    expect((await host.openTurn(session([{ ...server, headers: { a: '1' } }]), { signal: new AbortController().signal, onServerError: () => undefined }))?.specs()).toHaveLength(1);
    expect(backend.lists).toBe(3);
  });

  it('a server that never answers is left out after listTimeoutMs with an mcp_server_failed error', async () => {
    host = new McpHost({ listTimeoutMs: 300, connectTimeoutMs: 2000 });
    const silent: MCPServerConfig = { name: 'silent', transport: 'stdio', command: 'sleep', args: ['30'] };
    const errors: Array<[string, string]> = [];
    const tools = await host.openTurn(session([silent]), {
      signal: new AbortController().signal,
      onServerError: (code, message) => errors.push([code, message]),
    });
    expect(errors).toEqual([[MCP_SERVER_FAILED, expect.stringMatching(/^MCP server silent: no tool list within 0\.3 s/)]]);
    expect(tools?.specs()).toEqual([]);
  }, 20_000);

  it("merges the config's servers with the session's (the session's of the same name wins); none: no tools", async () => {
    host = new McpHost({ defaults: [{ ...server, name: 'a' }, { ...server, name: 'b' }] });
    expect(host.serversOf({ servers: [{ ...server, name: 'b', url: 'http://other/' }] })).toEqual([
      { ...server, name: 'a' },
      { ...server, name: 'b', url: 'http://other/' },
    ]);
    expect(await new McpHost().openTurn({ id: 'x' }, { signal: new AbortController().signal, onServerError: () => undefined })).toBeUndefined();
  });

  it('McpTurnTools answers an unknown name as an error result', async () => {
    const tools = new McpTurnTools(fakeBackend(async () => []), undefined);
    expect(await tools.execute({ id: 'c', name: 'mcp__none__x', args: {} }, { workingDir: '/', signal: new AbortController().signal })).toEqual({ output: 'unknown tool mcp__none__x', is_error: true });
  });

  it("scrubs a failing server's secrets from the error event and the log, and bounds it, whatever the backend sent", async () => {
    const warnings: unknown[] = [];
    const logger = { warn: (obj: unknown) => warnings.push(obj) } as unknown as Logger;
    host = new McpHost({ logger });
    const leaky: MCPServerConfig = {
      name: 'leaky',
      transport: 'sse',
      url: 'https://user:url-pass-1@mcp.example/mcp?token=query-tok-2',
      headers: { authorization: 'Bearer header-tok-3' },
      env: {},
      dynamic_headers: { 'x-key': 'dyn key/4' },
    };
    // What an older runner (or any backend) might throw: the SDK's text as is, secrets and all.
    const raw = `401 from https://user:url-pass-1@mcp.example/mcp?token=query-tok-2 with {"authorization":"Bearer header-tok-3"} x-key=dyn%20key%2F4 and Bearer other-unknown-token ${'z'.repeat(50_000)}`;
    host.route(() => fakeBackend(async () => Promise.reject(new Error(raw))));
    const errors: Array<[string, string]> = [];
    await host.openTurn(session([leaky]), { signal: new AbortController().signal, onServerError: (code, message) => errors.push([code, message]) });
    expect(errors).toHaveLength(1);
    const [code, message] = errors[0]!;
    expect(code).toBe(MCP_SERVER_FAILED);
    expect(message).toMatch(/^MCP server leaky: 401 from https:\/\/\*\*\*:\*\*\*@mcp\.example\/mcp\?token=\*\*\* with \{"authorization":"\*\*\*"\} x-key=\*\*\* and Bearer \*\*\* z/);
    for (const secret of ['url-pass-1', 'query-tok-2', 'header-tok-3', 'dyn key/4', 'dyn%20key%2F4', 'other-unknown-token']) {
      expect(message).not.toContain(secret);
      expect(JSON.stringify(warnings)).not.toContain(secret);
    }
    expect(message.length).toBeLessThan(MAX_MCP_ERROR_CHARS + 200);
  });
});
