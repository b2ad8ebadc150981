import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/**
 * The tools of Tower's test MCP servers (stdio and streamable HTTP share them): `echo` answers its text,
 * `fail` answers an error result, `slow` waits `ms` before answering, `big` answers `n` characters, `pid`
 * answers the server's process id (so tests can tell whether a client was reused).
 */
export function buildTestMcpServer(name: string): McpServer {
  const server = new McpServer({ name, version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo the text back', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text: `${name}: ${text}` }],
  }));
  server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, async () => ({
    content: [{ type: 'text', text: 'it failed' }],
    isError: true,
  }));
  server.registerTool('slow', { description: 'Answers after ms milliseconds', inputSchema: { ms: z.number() } }, async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('big', { description: 'Answers n characters', inputSchema: { n: z.number() } }, async ({ n }) => ({
    content: [{ type: 'text', text: Array.from({ length: Math.ceil(n / 10) }, (_, i) => `${String(i).padStart(9, '0')}\n`).join('').slice(0, n) }],
  }));
  server.registerTool('pid', { description: 'The server process id', inputSchema: {} }, async () => ({
    content: [{ type: 'text', text: String(process.pid) }],
  }));
  return server;
}
