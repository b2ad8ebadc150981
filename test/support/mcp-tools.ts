import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * The tools of Tower's test MCP servers (stdio and streamable HTTP share them): `echo` answers its text,
 * `fail` answers an error result, `slow` waits `ms` before answering, `big` answers `n` characters, `pid`
 * answers the server's process id (so tests can tell whether a client was reused), `env` answers an
 * environment variable of the server's process (read-only), `ask` puts a question
 * to the client (`elicitation/create`, form mode) and answers what came back. `echo` is annotated
 * read-only; the others carry no hints (a session asks before running them).
 */
export function buildTestMcpServer(name: string): McpServer {
  const server = new McpServer({ name, version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo the text back', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } }, async ({ text }) => ({
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
  // Read-only: tests ask for variables freely (what a server was given, and what it must not inherit).
  server.registerTool('env', { description: 'The value of an environment variable', inputSchema: { name: z.string() }, annotations: { readOnlyHint: true } }, async ({ name: variable }) => ({
    content: [{ type: 'text', text: process.env[variable] ?? '(unset)' }],
  }));
  server.registerTool('pid', { description: 'The server process id', inputSchema: {} }, async () => ({
    content: [{ type: 'text', text: String(process.pid) }],
  }));
  server.registerTool('ask', { description: 'Asks the user for a colour', inputSchema: { question: z.string() } }, async ({ question }, extra) => {
    // As the SDK's elicitInput does: a client that declared no elicitation capability is not asked.
    if (!server.server.getClientCapabilities()?.elicitation) {
      return { content: [{ type: 'text', text: 'this client does not support elicitation' }], isError: true };
    }
    const answer = await extra.sendRequest(
      {
        method: 'elicitation/create',
        params: {
          mode: 'form',
          message: question,
          requestedSchema: { type: 'object', properties: { color: { type: 'string', description: 'A colour' } }, required: ['color'] },
        },
      },
      ElicitResultSchema,
    );
    const content = answer.action === 'accept' ? ` ${JSON.stringify(answer.content ?? {})}` : '';
    return { content: [{ type: 'text', text: `answer: ${answer.action}${content}` }] };
  });
  return server;
}
