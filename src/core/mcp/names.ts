import { createHash } from 'node:crypto';
import { mcpNamePart } from '../../protocol/mcp.js';

export const MCP_TOOL_PREFIX = 'mcp__';
/** OpenAI's limit on function names (Anthropic's is 64 too). */
export const MAX_TOOL_NAME = 64;

/** `mcp__<server>__`: every tool of one server starts with it (server names are unique by this prefix). */
export function mcpServerPrefix(server: string): string {
  return `${MCP_TOOL_PREFIX}${mcpNamePart(server)}__`;
}

/**
 * The name the model sees for a server's tool: `mcp__<server>__<tool>` with every character outside
 * `[A-Za-z0-9_-]` replaced by `_`. A name over 64 characters, or one another tool already has (two tools
 * that differ only in replaced characters), is cut and given a stable 8-hex suffix from the real names,
 * so the same tool keeps its name from turn to turn.
 */
export function mcpToolName(server: string, tool: string, taken: ReadonlySet<string>): string {
  const plain = `${mcpServerPrefix(server)}${mcpNamePart(tool)}`;
  if (plain.length <= MAX_TOOL_NAME && !taken.has(plain)) return plain;
  for (let n = 0; ; n++) {
    const hash = createHash('sha256').update(`${server}\u0000${tool}\u0000${n}`).digest('hex').slice(0, 8);
    const name = `${plain.slice(0, MAX_TOOL_NAME - hash.length - 1)}_${hash}`;
    if (!taken.has(name)) return name;
  }
}
