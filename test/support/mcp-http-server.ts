import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { buildTestMcpServer } from './mcp-tools.js';

export const MCP_STDIO_SERVER = path.resolve(import.meta.dirname, 'mcp-stdio-server.ts');

/** The stdio test server as seed 004's `MCPServerConfig` args: run with node and tsx. */
export function stdioServerCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', MCP_STDIO_SERVER] };
}

export interface McpHttpTestServer {
  url: string;
  /** Headers of every request received, for checking configured headers arrive. */
  requests: IncomingMessage['headers'][];
  close(): Promise<void>;
}

/**
 * A streamable-HTTP MCP server for tests on 127.0.0.1:0. Stateful (an `mcp-session-id` per client, one SDK
 * server each), as elicitation needs: the client's answer arrives in another POST than the tool call.
 */
export async function startMcpHttpServer(name = 'http-test'): Promise<McpHttpTestServer> {
  const requests: IncomingMessage['headers'][] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(req, res, body);
    if (typeof id === 'string' || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
      },
    });
    const server = buildTestMcpServer(name);
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      void server.close();
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
  const http: Server = createServer((req, res) => {
    requests.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      handle(req, res, text === '' ? undefined : JSON.parse(text)).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const transport of sessions.values()) void transport.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
