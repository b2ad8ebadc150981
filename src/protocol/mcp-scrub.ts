import { SECRET_MARKER } from './mcp-secrets.js';

/**
 * Text that comes out of an MCP server or the MCP SDK (error messages, tool output) goes into events,
 * hub frames, SSE, logs and the model's context. The SDK's errors quote what it was given (a URL with
 * its query, a header, the spawn environment of a stdio server), and a server may echo its own env, so
 * every such text is scrubbed of the server's secrets before it leaves the MCP layer: the values of
 * `env`, `headers` and `dynamic_headers` (as `redactMcp` hides them from settings), the user and
 * password of its URL and the values of its query. Error messages are also cut to a bounded length and
 * lose anything that reads as a credential (`Bearer <token>`, `Basic <token>`).
 */

/** The longest MCP error message passed on, in characters (after scrubbing). */
export const MAX_MCP_ERROR_CHARS = 2000;

/**
 * Values shorter than this are replaced only where they stand alone (between non-alphanumerics): a
 * two-letter env value such as `on` would otherwise blank out every word that holds it.
 */
const SHORT_SECRET = 4;

/** Where secrets sit in a server config (`MCPServerConfig` and `McpServerSetting` both fit). */
export interface McpSecretSource {
  env?: Record<string, string> | undefined;
  headers?: Record<string, string> | undefined;
  dynamic_headers?: Record<string, string> | undefined;
  url?: string | undefined;
}

const CREDENTIAL = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,}/gi;

/** The server's secret strings, each with the forms it takes when quoted (URL-encoded, JSON-escaped), longest first. */
export function mcpSecretsOf(server: McpSecretSource): string[] {
  const values = new Set<string>();
  for (const record of [server.env, server.headers, server.dynamic_headers]) {
    for (const value of Object.values(record ?? {})) values.add(value);
  }
  for (const value of urlSecrets(server.url)) values.add(value);
  const forms = new Set<string>();
  for (const value of values) {
    if (value === '' || value === SECRET_MARKER) continue;
    forms.add(value);
    forms.add(encodeURIComponent(value));
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** `text` with every secret of `server` replaced by the marker. */
export function scrubMcpSecrets(text: string, server: McpSecretSource): string {
  return replaceSecrets(text, mcpSecretsOf(server));
}

/** An MCP failure as text safe to show anyone: scrubbed of the server's secrets and of credentials, bounded. */
export function mcpErrorText(server: McpSecretSource, err: unknown): string {
  return boundMcpErrorText(scrubCredentials(replaceSecrets(err instanceof Error ? err.message : String(err), mcpSecretsOf(server))));
}

/** `text` with anything that reads as a credential (`Bearer <token>`, `Basic <token>`) replaced by the marker. */
export function scrubCredentials(text: string): string {
  return text.replace(CREDENTIAL, (_m, scheme: string) => `${scheme} ${SECRET_MARKER}`);
}

/** `text` cut to `MAX_MCP_ERROR_CHARS`, saying how much was cut. */
export function boundMcpErrorText(text: string): string {
  if (text.length <= MAX_MCP_ERROR_CHARS) return text;
  return `${text.slice(0, MAX_MCP_ERROR_CHARS)}… (${text.length - MAX_MCP_ERROR_CHARS} more characters cut)`;
}

/** `text` with each of `secrets` (as `mcpSecretsOf` lists them, longest first) replaced by the marker. */
export function replaceSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!out.includes(secret)) continue;
    if (secret.length >= SHORT_SECRET) out = out.split(secret).join(SECRET_MARKER);
    else out = out.replace(new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(secret)}(?![A-Za-z0-9])`, 'g'), SECRET_MARKER);
  }
  return out;
}

function urlSecrets(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const part of [url.username, url.password]) {
    if (part === '') continue;
    found.push(part);
    found.push(safeDecode(part));
  }
  for (const value of url.searchParams.values()) found.push(value);
  return found;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
