import { parseRecord } from '../protocol/guards.js';
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
  // Not the JSON of an object: no reader can parse it either, and it is not this migration's to repair.
  const record = parseRecord(data);
  if (!record || !('mcp' in record)) return undefined;
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
  return nextPage(rows, (last) => ({ session_id: last.session_id, seq: Number(last.seq) }));
}

/** Where the page after `rows` starts (the cursor of its last row); undefined after the last page, a short one. */
export function nextPage<R, C>(rows: readonly R[], cursorOf: (last: R) => C): C | undefined {
  const last = rows.at(-1);
  return last !== undefined && rows.length >= SCRUB_PAGE ? cursorOf(last) : undefined;
}
