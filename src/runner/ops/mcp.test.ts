import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_MCP_ERROR_CHARS } from '../../protocol/mcp-scrub.js';
import { SECRET_MARKER } from '../../protocol/mcp-secrets.js';
import type { MCPServerConfig } from '../../protocol/runner.js';
import { startMcpHttpServer, stdioServerCommand, type McpHttpTestServer } from '../../../test/support/mcp-http-server.js';
import { runOperation } from './dispatch.js';
import { configKey, McpClients } from './mcp.js';
import { makeOpWorkspace, type OpWorkspace } from './test-support.js';

let http: McpHttpTestServer;
let ws: OpWorkspace;
beforeAll(async () => {
  http = await startMcpHttpServer();
});
afterAll(async () => {
  await http.close();
});
beforeEach(async () => {
  ws = await makeOpWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const stdio = (name = 'local'): MCPServerConfig => ({ name, transport: 'stdio', ...stdioServerCommand(), env: { MCP_SERVER_NAME: name } });
const remote = (transport: MCPServerConfig['transport'] = 'sse'): MCPServerConfig => ({ name: 'remote', transport, url: http.url, headers: { 'x-tenant': 't1' } });

describe('MCP operations', () => {
  it('lists and calls tools of a stdio server', async () => {
    const ctx = ws.ctx();
    const listed = await runOperation('mcp_list_tools', { server: stdio() }, ctx);
    expect(listed.success).toBe(true);
    const tools = (listed.result as { tools: { name: string; description: string; input_schema: unknown }[] }).tools;
    expect(tools.map((t) => t.name).sort()).toEqual(['ask', 'big', 'echo', 'env', 'fail', 'pid', 'slow']);
    expect(tools.find((t) => t.name === 'echo')).toMatchObject({ description: 'Echo the text back', input_schema: { type: 'object' }, annotations: { readOnlyHint: true } });
    expect(await runOperation('mcp_call', { server: stdio(), tool_name: 'echo', args: { text: 'hi' } }, ctx)).toEqual({ success: true, result: { content: 'local: hi' } });
    expect(await runOperation('mcp_call', { server: stdio(), tool_name: 'fail', args: {} }, ctx)).toEqual({ success: true, result: { content: 'it failed', is_error: true } });
  });

  it("a stdio server gets PATH, HOME and its own env, never the runner's token or provider keys", async () => {
    const saved = { token: process.env.TOWER_RUNNER_TOKEN, key: process.env.ANTHROPIC_API_KEY };
    process.env.TOWER_RUNNER_TOKEN = 'trt_must_not_leak';
    process.env.ANTHROPIC_API_KEY = 'sk-must-not-leak';
    try {
      const server = { ...stdio(), env: { MCP_SERVER_NAME: 'local', OWN: 'own-value' } };
      const env = async (name: string) => (await runOperation('mcp_call', { server, tool_name: 'env', args: { name } }, ws.ctx())).result;
      expect(await env('OWN')).toEqual({ content: 'own-value' });
      expect(await env('PATH')).toEqual({ content: process.env.PATH });
      expect(await env('TOWER_RUNNER_TOKEN')).toEqual({ content: '(unset)' });
      expect(await env('ANTHROPIC_API_KEY')).toEqual({ content: '(unset)' });
    } finally {
      for (const [name, value] of [['TOWER_RUNNER_TOKEN', saved.token], ['ANTHROPIC_API_KEY', saved.key]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('lists and calls tools over streamable HTTP, for both "sse" and "http" configs, sending the configured headers', async () => {
    for (const transport of ['sse', 'http'] as const) {
      const res = await runOperation('mcp_call', { server: remote(transport), tool_name: 'echo', args: { text: transport } }, ws.ctx());
      expect(res).toEqual({ success: true, result: { content: `http-test: ${transport}` } });
    }
    expect(http.requests.some((h) => h['x-tenant'] === 't1')).toBe(true);
  });

  it('applies the call timeout from the args, and spills long results', async () => {
    const slow = await runOperation('mcp_call', { server: remote(), tool_name: 'slow', args: { ms: 5000 }, timeout: 0.2 }, ws.ctx());
    expect(slow).toMatchObject({ success: false, error: expect.stringMatching(/timed out|timeout/i) });
    const big = await runOperation('mcp_call', { server: remote(), tool_name: 'big', args: { n: 40_000 } }, ws.ctx({ taskId: 'mcpbig' }));
    expect(big.result).toMatchObject({ truncated: true, file_path: '.tower/outputs/mcpbig.mcp.txt', total_size: 40_000 });
  });

  it('reports an unreachable server and bad configs as failed results', async () => {
    const dead: MCPServerConfig = { name: 'dead', transport: 'sse', url: 'http://127.0.0.1:1/mcp' };
    expect(await runOperation('mcp_list_tools', { server: dead }, ws.ctx())).toMatchObject({ success: false, error: expect.stringMatching(/^MCP server dead:/) });
    expect(await runOperation('mcp_list_tools', { server: { name: 'x', transport: 'stdio' } }, ws.ctx())).toMatchObject({ success: false, error: expect.stringMatching(/needs a command/) });
    expect(await runOperation('mcp_call', { server: stdio(), tool_name: 'echo', args: [1] }, ws.ctx())).toMatchObject({ success: false, error: expect.stringMatching(/JSON object/) });
  });
});

describe('MCP error text', () => {
  it('never carries the server config\'s secrets (headers, dynamic headers, URL credentials and query) and is bounded', async () => {
    // A server (or a proxy before it) that answers 401 quoting the request back: the SDK puts the body
    // into its error message, and with it the token of every header and the query string.
    const echo = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401, { 'content-type': 'text/plain' }).end(`denied ${req.url} ${JSON.stringify(req.headers)} ${'y'.repeat(10_000)}`));
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const { port } = echo.address() as AddressInfo;
    try {
      const server: MCPServerConfig = {
        name: 'leaky',
        transport: 'http',
        url: `http://127.0.0.1:${port}/mcp?api_key=query-secret-1234&region=eu`,
        headers: { authorization: 'Bearer header-secret-5678', 'x-tenant': 'tenant-secret-9' },
        dynamic_headers: { 'x-session': 'dynamic-secret-0' },
      };
      const secrets = ['query-secret-1234', 'header-secret-5678', 'tenant-secret-9', 'dynamic-secret-0'];
      for (const outcome of [
        await runOperation('mcp_list_tools', { server }, ws.ctx()),
        await runOperation('mcp_call', { server, tool_name: 'echo', args: { text: 'hi' } }, ws.ctx()),
      ]) {
        expect(outcome.success).toBe(false);
        const error = outcome.error ?? '';
        expect(error).toMatch(/^MCP server leaky: /);
        expect(error).toContain('denied /mcp?api_key=');
        expect(error).toContain(SECRET_MARKER);
        for (const secret of secrets) expect(error).not.toContain(secret);
        expect(error.length).toBeLessThan(MAX_MCP_ERROR_CHARS + 100);
      }
    } finally {
      echo.closeAllConnections();
      await new Promise((resolve) => echo.close(resolve));
    }
  });
});

describe('MCP elicitation', () => {
  it('hands a server question to the elicit handler and answers the server with it, over stdio and HTTP', async () => {
    const asked: { message: string; schema: Record<string, unknown> }[] = [];
    const clients = new McpClients({
      elicit: async (request) => {
        asked.push(request);
        return asked.length === 1 ? { action: 'accept', content: { color: 'teal' } } : { action: 'decline' };
      },
    });
    try {
      expect((await clients.callTool(stdio(), 'ask', { question: 'Which colour?' })).content).toBe('answer: accept {"color":"teal"}');
      expect((await clients.callTool(remote(), 'ask', { question: 'And now?' })).content).toBe('answer: decline');
      expect(asked).toEqual([
        { message: 'Which colour?', schema: expect.objectContaining({ type: 'object', required: ['color'] }) },
        { message: 'And now?', schema: expect.objectContaining({ type: 'object' }) },
      ]);
    } finally {
      await clients.closeAll();
    }
  });

  it('without a handler the client declares no elicitation capability and the tool fails (what a runner does)', async () => {
    const res = await runOperation('mcp_call', { server: stdio(), tool_name: 'ask', args: { question: 'q' } }, ws.ctx());
    expect(JSON.stringify(res)).toMatch(/elicitation/i);
  });
});

describe('McpClients cache', () => {
  it('reuses a client for the same config and starts another for a changed one', async () => {
    const clients = new McpClients();
    try {
      const a = await clients.callTool(stdio('a'), 'pid', {});
      expect((await clients.callTool(stdio('a'), 'pid', {})).content).toBe(a.content);
      const changed = await clients.callTool({ ...stdio('a'), env: { MCP_SERVER_NAME: 'a', OTHER: '1' } }, 'pid', {});
      expect(changed.content).not.toBe(a.content);
      expect(clients.size).toBe(2);
    } finally {
      await clients.closeAll();
    }
    expect(clients.size).toBe(0);
  });

  it('closes idle clients; the next call starts a new server', async () => {
    const clients = new McpClients({ idleMs: 50 });
    try {
      const a = await clients.callTool(stdio('a'), 'pid', {});
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (clients.size === 0) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
      });
      expect((await clients.callTool(stdio('a'), 'pid', {})).content).not.toBe(a.content);
    } finally {
      await clients.closeAll();
    }
  });

  it('keys on the whole config, in any key order', () => {
    expect(configKey({ name: 'a', transport: 'sse', url: 'u', headers: { a: '1', b: '2' } })).toBe(configKey({ headers: { b: '2', a: '1' }, url: 'u', transport: 'sse', name: 'a' }));
    expect(configKey({ name: 'a', transport: 'sse', url: 'u' })).not.toBe(configKey({ name: 'a', transport: 'sse', url: 'v' }));
  });
});
