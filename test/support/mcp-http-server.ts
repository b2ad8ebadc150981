import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
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

/** A streamable-HTTP MCP server for tests on 127.0.0.1:0, stateless: one SDK server per request. */
export async function startMcpHttpServer(name = 'http-test'): Promise<McpHttpTestServer> {
  const requests: IncomingMessage['headers'][] = [];
  const http: Server = createServer((req, res) => {
    requests.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const server = buildTestMcpServer(name);
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on('close', () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        const text = Buffer.concat(chunks).toString('utf8');
        await transport.handleRequest(req, res, text === '' ? undefined : JSON.parse(text));
      })().catch(() => {
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
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
