import { z } from 'zod';
import { MCPServerConfig } from './runner.js';

/**
 * MCP servers of a session (or the config's defaults): seed 004's `MCPServerConfig`, checked where it
 * enters, so a junk config is refused with `invalid_request` instead of failing at every turn.
 */

/** The part of a server name that goes into tool names (`mcp__<server>__<tool>`): OpenAI allows `[a-zA-Z0-9_-]`. */
export function mcpNamePart(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

const MAX_SERVERS = 20;
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;

export const McpServerSetting = MCPServerConfig.extend({
  name: z.string().min(1).max(64).regex(NO_CONTROL, 'a server name holds no control characters'),
  command: z.string().max(4096).optional(),
  args: z.array(z.string().max(16_384)).max(200).optional(),
  url: z.string().max(4096).optional(),
})
  .strict()
  .superRefine((server, ctx) => {
    const problem = serverProblem(server);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });
export type McpServerSetting = z.infer<typeof McpServerSetting>;

export const McpSettings = z
  .object({ servers: z.array(McpServerSetting).max(MAX_SERVERS, `at most ${MAX_SERVERS} MCP servers`) })
  .strict()
  .superRefine((settings, ctx) => {
    const seen = new Map<string, string>();
    settings.servers.forEach((server, i) => {
      const part = mcpNamePart(server.name);
      const earlier = seen.get(part);
      if (earlier !== undefined) {
        const same = earlier === server.name ? `"${server.name}" is used twice` : `"${server.name}" and "${earlier}" give the same tool prefix mcp__${part}__`;
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'name'], message: `duplicate MCP server name: ${same}` });
      }
      seen.set(part, server.name);
    });
  });
export type McpSettings = z.infer<typeof McpSettings>;

function serverProblem(server: MCPServerConfig): { field: string; message: string } | undefined {
  if (server.transport === 'stdio') {
    if (server.url !== undefined) return { field: 'url', message: 'a stdio server takes a command, not a url' };
    if (server.command === undefined || server.command.trim() === '') return { field: 'command', message: 'a stdio server needs a command' };
    if (server.command.includes('\u0000') || (server.args ?? []).some((a) => a.includes('\u0000'))) {
      return { field: 'command', message: 'the command and its args hold no NUL characters' };
    }
    return undefined;
  }
  if (server.command !== undefined || server.args !== undefined) return { field: 'command', message: `a ${server.transport} server takes a url, not a command` };
  if (server.url === undefined) return { field: 'url', message: `a ${server.transport} server needs a url` };
  let url: URL;
  try {
    url = new URL(server.url);
  } catch {
    return { field: 'url', message: `"${server.url.slice(0, 200)}" is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { field: 'url', message: 'the url must be http or https' };
  return undefined;
}
