import type Database from 'better-sqlite3';
import { SCRUB_PAGE } from '../mcp-event-scrub.js';
import {
  ERROR_EVENT,
  ERROR_SCRUB_START,
  FAILED_LIKE,
  TOOL_RESULT_EVENT,
  TOOL_ROLE,
  nextErrorScrubPage,
  scrubbedRowData,
  sessionMcpSecrets,
  type ErrorScrubCursor,
  type ErrorScrubRow,
} from '../mcp-error-scrub.js';

type Row = ErrorScrubRow & { key: number };

/**
 * Migration 36: old `error` events, failed `tool_call_response` events and failed `tool` messages lose
 * the MCP secrets and credentials they quote (mcp-error-scrub.ts). Page by page on the primary keys, in
 * bounded memory, rewriting only the rows that change.
 */
export function scrubStoredMcpErrors(db: Database.Database): void {
  const settings = db.prepare<[string], string>('SELECT settings FROM sessions WHERE id = ?').pluck();
  const secretsOf = (() => {
    let session: string | undefined;
    let secrets: string[] = [];
    return (id: string): string[] => {
      if (id !== session) {
        session = id;
        secrets = sessionMcpSecrets(settings.get(id));
      }
      return secrets;
    };
  })();
  // Events, then messages: each page read on its table's primary key (after the filter's own values),
  // the changed rows rewritten.
  const tables = [
    {
      select: db.prepare<(string | number)[], Row>(
        `SELECT session_id, seq AS key, type, data FROM events
         WHERE (type = ? OR (type = ? AND data LIKE ?)) AND (session_id > ? OR (session_id = ? AND seq > ?))
         ORDER BY session_id, seq LIMIT ${SCRUB_PAGE}`,
      ),
      filter: [ERROR_EVENT, TOOL_RESULT_EVENT, FAILED_LIKE],
      update: db.prepare<[string, string, number]>('UPDATE events SET data = ? WHERE session_id = ? AND seq = ?'),
    },
    {
      select: db.prepare<(string | number)[], Row>(
        `SELECT session_id, idx AS key, data FROM messages
         WHERE role = ? AND data LIKE ? AND (session_id > ? OR (session_id = ? AND idx > ?))
         ORDER BY session_id, idx LIMIT ${SCRUB_PAGE}`,
      ),
      filter: [TOOL_ROLE, FAILED_LIKE],
      update: db.prepare<[string, string, number]>('UPDATE messages SET data = ? WHERE session_id = ? AND idx = ?'),
    },
  ];
  for (const { select, filter, update } of tables) {
    for (let at: ErrorScrubCursor | undefined = ERROR_SCRUB_START; at; ) {
      const rows = select.all(...filter, at.session_id, at.session_id, at.key);
      for (const row of rows) {
        const data = scrubbedRowData(row, secretsOf(row.session_id));
        if (data !== undefined) update.run(data, row.session_id, row.key);
      }
      at = nextErrorScrubPage(rows);
    }
  }
}
