import { settingsJson } from '../commit-plan.js';
import type { SessionTextColumns } from '../session-columns.js';
import type { SessionRecord } from '../types.js';

// The session row's shape and its writing side, apart from rows.ts (which parses rows with zod): the
// writer thread imports this, and every module it loads is paid for in its start-up.

export { settingsJson };

export interface SessionRow extends SessionTextColumns {
  starred: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  message_count: number;
  last_event_seq: number;
  settings: string;
  runner: string | null;
}

export const SESSION_COLUMNS =
  'id, title, created_at, updated_at, working_dir, model, permissions, starred, input_tokens, ' +
  'output_tokens, cost, message_count, last_event_seq, settings, runner';

export function sessionToRow(s: SessionRecord): SessionRow {
  return {
    id: s.id,
    title: s.title,
    created_at: s.created_at,
    updated_at: s.updated_at,
    working_dir: s.working_dir,
    model: s.model,
    permissions: JSON.stringify(s.permissions),
    starred: s.starred ? 1 : 0,
    input_tokens: s.input_tokens,
    output_tokens: s.output_tokens,
    cost: s.cost,
    message_count: s.message_count,
    last_event_seq: s.last_event_seq,
    settings: settingsJson(s),
    runner: s.runner ? JSON.stringify(s.runner) : null,
  };
}
