import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildTestMcpServer } from './mcp-tools.js';

/** A stdio MCP server for tests, built with the official SDK: `node --import tsx test/support/mcp-stdio-server.ts`. */
const server = buildTestMcpServer(process.env.MCP_SERVER_NAME ?? 'stdio-test');
await server.connect(new StdioServerTransport());
