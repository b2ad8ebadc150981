import { isRecord, parseRecord } from '../protocol/guards.js';
import { boundMcpErrorText, mcpSecretsOf, replaceSecrets, scrubCredentials, type McpSecretSource } from '../protocol/mcp-scrub.js';
import { nextPage } from './mcp-event-scrub.js';

/**
 * Scrubbing MCP error text out of what is already stored (SQLite migration 36, Postgres 136). Before
 * `mcpErrorText`, an MCP server's failure reached the store as the SDK wrote it: in `error` events (a
 * server that could not be listed), in failed tool results (`tool_call_response` events with
 * `is_error`, and the `tool` messages the model reads back), quoting the server's env, header values
 * or URL credentials. The migration applies the same rule to those rows:
 * - the secrets of the session's MCP servers (its `settings` row: the servers it has now; a server
 *   from the config file or one removed since is not known to the store) are replaced by the marker,
 *   and so is anything that reads as a credential (`Bearer <token>`);
 * - text that came from MCP (code `mcp_server_failed`, a message starting "MCP server ", a tool named
 *   `mcp__...`) is also cut to the bound new text has.
 * A tool's successful output is left as it is (new output is not scrubbed either: it may be ordinary
 * data equal to an env value). Only the changed field of a changed row is rewritten; other fields keep
 * their values and order, every other row its bytes. Data that is not the JSON of an object is left
 * alone: no reader can parse it either, and it is not this migration's to repair.
 */

export const ERROR_EVENT = 'error';
export const TOOL_RESULT_EVENT = 'tool_call_response';
export const TOOL_ROLE = 'tool';
/** The SQL pre-filter for failed tool results (the JSON Tower writes has no spaces). */
export const FAILED_LIKE = '%"is_error":true%';
const MCP_SERVER_FAILED = 'mcp_server_failed';
const MCP_TOOL_PREFIX = 'mcp__';

/** The secrets of every MCP server in a session's `settings` column (any age or shape), longest first. */
export function sessionMcpSecrets(settings: string | null | undefined): string[] {
  const parsed = parseRecord(settings ?? '');
  const mcp = parsed?.mcp;
  const servers = isRecord(mcp) && Array.isArray(mcp.servers) ? (mcp.servers as unknown[]) : [];
  const all = new Set<string>();
  for (const server of servers) {
    if (!isRecord(server)) continue;
    const source: McpSecretSource = {
      env: strings(server.env),
      headers: strings(server.headers),
      dynamic_headers: strings(server.dynamic_headers),
      url: typeof server.url === 'string' ? server.url : undefined,
    };
    for (const secret of mcpSecretsOf(source)) all.add(secret);
  }
  return [...all].sort((a, b) => b.length - a.length);
}

function scrubText(text: string, secrets: readonly string[], fromMcp: boolean): string {
  const scrubbed = scrubCredentials(replaceSecrets(text, secrets));
  return fromMcp ? boundMcpErrorText(scrubbed) : scrubbed;
}

/** One field of a JSON object scrubbed; the object's new JSON, or undefined when nothing changed. */
function withField(record: Record<string, unknown>, field: string, secrets: readonly string[], fromMcp: boolean): string | undefined {
  const text = record[field];
  if (typeof text !== 'string') return undefined;
  const scrubbed = scrubText(text, secrets, fromMcp);
  return scrubbed === text ? undefined : JSON.stringify({ ...record, [field]: scrubbed });
}

/** An `error` or failed `tool_call_response` event's data, scrubbed; undefined when it needs no rewrite. */
export function scrubbedErrorEventData(type: string, data: string, secrets: readonly string[]): string | undefined {
  const record = parseRecord(data);
  if (!record) return undefined;
  if (type === ERROR_EVENT) {
    const fromMcp = record.code === MCP_SERVER_FAILED || (typeof record.message === 'string' && record.message.startsWith('MCP server '));
    return withField(record, 'message', secrets, fromMcp);
  }
  if (type === TOOL_RESULT_EVENT && record.is_error === true) {
    return withField(record, 'result', secrets, typeof record.tool === 'string' && record.tool.startsWith(MCP_TOOL_PREFIX));
  }
  return undefined;
}

/** A failed `tool` message's JSON, scrubbed; undefined when it needs no rewrite. */
export function scrubbedToolMessageData(data: string, secrets: readonly string[]): string | undefined {
  const record = parseRecord(data);
  if (!record || record.role !== TOOL_ROLE || record.is_error !== true) return undefined;
  return withField(record, 'content', secrets, typeof record.tool_name === 'string' && record.tool_name.startsWith(MCP_TOOL_PREFIX));
}

/** A row the scrub reads: events carry their type, tool messages none; `key` is the seq or the message index. */
export interface ErrorScrubRow {
  session_id: string;
  key: number | string;
  type?: string;
  data: string;
}

/** Where the next page starts: after (session_id, key). */
export interface ErrorScrubCursor {
  session_id: string;
  key: number;
}

export const ERROR_SCRUB_START: ErrorScrubCursor = { session_id: '', key: -1 };

/** A row's new data, or undefined when it keeps its bytes. */
export function scrubbedRowData(row: ErrorScrubRow, secrets: readonly string[]): string | undefined {
  return row.type === undefined ? scrubbedToolMessageData(row.data, secrets) : scrubbedErrorEventData(row.type, row.data, secrets);
}

/** Where the page after `rows` starts; undefined after the last page. */
export function nextErrorScrubPage(rows: readonly ErrorScrubRow[]): ErrorScrubCursor | undefined {
  return nextPage(rows, (last) => ({ session_id: last.session_id, key: Number(last.key) }));
}

function strings(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
