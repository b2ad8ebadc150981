import type pg from 'pg';
import { SCRUB_PAGE } from '../mcp-event-scrub.js';
import * as scrub from '../mcp-error-scrub.js';

/** The page queries of migration 136 (keyset on each table's primary key). */
const PAGES = {
  events: {
    select: `SELECT session_id, seq AS key, type, data FROM events
             WHERE (type = $3 OR (type = $4 AND data LIKE $5)) AND (session_id, seq) > ($1, $2::bigint)
             ORDER BY session_id, seq LIMIT ${SCRUB_PAGE}`,
    params: [scrub.ERROR_EVENT, scrub.TOOL_RESULT_EVENT, scrub.FAILED_LIKE],
    update: `UPDATE events AS e SET data = u.data FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u (sid, key, data)
             WHERE e.session_id = u.sid AND e.seq = u.key`,
  },
  messages: {
    select: `SELECT session_id, idx AS key, data FROM messages
             WHERE role = $3 AND data LIKE $4 AND (session_id, idx) > ($1, $2::int)
             ORDER BY session_id, idx LIMIT ${SCRUB_PAGE}`,
    params: [scrub.TOOL_ROLE, scrub.FAILED_LIKE],
    update: `UPDATE messages AS m SET data = u.data FROM unnest($1::text[], $2::int[], $3::text[]) AS u (sid, key, data)
             WHERE m.session_id = u.sid AND m.idx = u.key`,
  },
} as const;

/**
 * Migration 136: old `error` events, failed `tool_call_response` events and failed `tool` messages lose
 * the MCP secrets and credentials they quote (mcp-error-scrub.ts; SQLite 36). Page by page, each page's
 * rewrites in one statement.
 */
export async function scrubStoredMcpErrorsPg(client: pg.ClientBase): Promise<void> {
  let session: string | undefined;
  let secrets: string[] = [];
  const secretsOf = async (id: string): Promise<string[]> => {
    if (id !== session) {
      session = id;
      const { rows } = await client.query<{ settings: string }>('SELECT settings FROM sessions WHERE id = $1', [id]);
      secrets = scrub.sessionMcpSecrets(rows[0]?.settings);
    }
    return secrets;
  };
  for (const page of [PAGES.events, PAGES.messages]) {
    for (let at: scrub.ErrorScrubCursor | undefined = scrub.ERROR_SCRUB_START; at; ) {
      const { rows } = await client.query<scrub.ErrorScrubRow>(page.select, [at.session_id, at.key, ...page.params]);
      const ids: string[] = [];
      const keys: number[] = [];
      const data: string[] = [];
      for (const row of rows) {
        const scrubbed = scrub.scrubbedRowData(row, await secretsOf(row.session_id));
        if (scrubbed === undefined) continue;
        ids.push(row.session_id);
        keys.push(Number(row.key));
        data.push(scrubbed);
      }
      if (ids.length > 0) await client.query(page.update, [ids, keys, data]);
      at = scrub.nextErrorScrubPage(rows);
    }
  }
}
