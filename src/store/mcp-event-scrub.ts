import { redactStoredMcp } from '../protocol/mcp-secrets.js';

/**
 * Scrubbing MCP secrets out of events already stored (SQLite migration 35, Postgres 135). Tower once
 * wrote a `session_updated` event's `mcp` settings whole, env and header values included; newer Towers
 * write them redacted (`withRedactedMcp`), and the migration gives the old events the same treatment
 * with the same rule (`redactStoredMcp`). Only events that held a secret are rewritten, and only their
 * `mcp` field changes: the other fields keep their values and order, every other row its bytes.
 */

/** The only event type that carries MCP settings. */
export const MCP_SETTINGS_EVENT = 'session_updated';

/** Rows read per page, so a long event log is scrubbed in bounded memory. */
export const SCRUB_PAGE = 500;

/** A cheap pre-filter for the SQL (`LIKE`): data that could hold MCP settings at all. */
export const MCP_DATA_LIKE = '%"mcp"%';

/** The event's data with its MCP secrets redacted; undefined when it holds none (nothing to write). */
export function scrubbedEventData(data: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    // Not JSON: no reader can parse it either, and it is not this migration's to repair.
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('mcp' in parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  const before = JSON.stringify(record);
  const after = JSON.stringify({ ...record, mcp: redactStoredMcp(record.mcp) });
  return after === before ? undefined : after;
}

/** A page's position: the last (session_id, seq) read. */
export interface ScrubCursor {
  session_id: string;
  seq: number;
}

/** The first page starts before every key. */
export const SCRUB_START: ScrubCursor = { session_id: '', seq: -1 };

/**
 * Scrubs one page of rows, handing each rewritten one to `write`; returns where the next page starts,
 * or undefined after the last page.
 */
export function scrubPage<R extends { session_id: string; seq: number | string; data: string }>(rows: readonly R[], write: (row: R, data: string) => void): ScrubCursor | undefined {
  for (const row of rows) {
    const scrubbed = scrubbedEventData(row.data);
    if (scrubbed !== undefined) write(row, scrubbed);
  }
  const last = rows.at(-1);
  return last && rows.length >= SCRUB_PAGE ? { session_id: last.session_id, seq: Number(last.seq) } : undefined;
}
