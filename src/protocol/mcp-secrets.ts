import { TowerError } from './errors.js';
import { isRecord } from './guards.js';
import type { McpServerSetting, McpSettings } from './mcp.js';

/**
 * MCP server secrets: the values of a server's `env`, `headers` and `dynamic_headers` (tokens, API keys)
 * are handed to the MCP client only. Wherever settings leave the store otherwise (API responses, events
 * and so hub frames and SSE, exports, logs) each value is replaced by `SECRET_MARKER`; the keys stay
 * visible. A client may send the marker back (a PATCH of settings it read): the stored value is kept.
 */
export const SECRET_MARKER = '***';

const SECRET_FIELDS = ['env', 'headers', 'dynamic_headers'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

function mapSecrets(server: McpServerSetting, map: (field: SecretField, key: string, value: string) => string): McpServerSetting {
  const out: McpServerSetting = { ...server };
  for (const field of SECRET_FIELDS) {
    const values = server[field];
    if (values === undefined) continue;
    out[field] = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, map(field, key, value)]));
  }
  return out;
}

/**
 * The one redaction rule, for a server of any shape: every value under its `env`, `headers` or
 * `dynamic_headers` becomes the marker, wherever an object stands there; everything else is kept as it
 * was (a valid `McpServerSetting` comes back a valid one).
 */
function redactServer<S>(server: S): S {
  if (!isRecord(server)) return server;
  const out: Record<string, unknown> = { ...server };
  for (const field of SECRET_FIELDS) {
    const values = server[field];
    if (isRecord(values)) out[field] = Object.fromEntries(Object.keys(values).map((key) => [key, SECRET_MARKER]));
  }
  return out as S;
}

/** The settings with every secret value replaced by the marker. */
export function redactMcp(settings: McpSettings): McpSettings {
  return { servers: settings.servers.map(redactServer) };
}

/**
 * `redactMcp` for settings of any age and shape (an event written by an older Tower, whose schema may
 * have differed): the same rule on each server; the settings' other fields, and anything that is not
 * settings at all, are returned as they were.
 */
export function redactStoredMcp(mcp: unknown): unknown {
  if (!isRecord(mcp) || !Array.isArray(mcp.servers)) return mcp;
  return { ...mcp, servers: (mcp.servers as unknown[]).map(redactServer) };
}

/** `redactMcp` of the `mcp` field of an object (a session, a settings patch), other fields untouched. */
export function withRedactedMcp<T extends { mcp?: McpSettings | undefined }>(value: T): T {
  return value.mcp === undefined ? value : { ...value, mcp: redactMcp(value.mcp) };
}

/**
 * New settings where each marker value takes the stored value of the same server name, field and key.
 * A marker with no stored value to keep is refused (`invalid_request`): it would become the secret.
 */
export function restoreMcpSecrets(incoming: McpSettings, stored: McpSettings | undefined): McpSettings {
  const before = new Map((stored?.servers ?? []).map((s) => [s.name, s]));
  return {
    servers: incoming.servers.map((server) =>
      mapSecrets(server, (field, key, value) => {
        if (value !== SECRET_MARKER) return value;
        const kept = before.get(server.name)?.[field]?.[key];
        if (kept === undefined) {
          throw new TowerError(
            'invalid_request',
            `mcp server "${server.name}" ${field}.${key} is "${SECRET_MARKER}" (a redacted value) but this session stores no value ` +
              'to keep for it; send the real value',
          );
        }
        return kept;
      }),
    ),
  };
}

/** Where the settings hold the marker (`servers[i].field.key`), e.g. in an export that was redacted. */
export function redactedPaths(settings: McpSettings | undefined): string[] {
  const found: string[] = [];
  (settings?.servers ?? []).forEach((server, i) => {
    mapSecrets(server, (field, key, value) => {
      if (value === SECRET_MARKER) found.push(`servers[${i}].${field}.${key}`);
      return value;
    });
  });
  return found;
}
