import type { ConversationMessage, StoredMessage } from '../../protocol/conversation.js';
import { storedEventOf, type EventType, type StoredEvent } from '../../protocol/events.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { RunnerPlacement, type Permissions } from '../../protocol/session.js';
import { settingsJson } from '../commit-plan.js';
import { settingsFromJson } from '../settings-json.js';
import type { SessionTextColumns } from '../session-columns.js';
import type { SessionRecord } from '../types.js';

/** Row shapes as `pg` returns them (BIGINT arrives as a string) and their conversion. */

export interface PgSessionRow extends SessionTextColumns {
  starred: boolean;
  input_tokens: string | number;
  output_tokens: string | number;
  cost: number;
  message_count: number;
  last_event_seq: string | number;
  settings: string;
  runner: string | null;
}

export interface PgEventRow {
  seq: string | number;
  type: string;
  data: string;
  created_at: string;
}

export interface PgMessageRow {
  idx: number;
  data: string;
  created_at: string;
}

const ESCAPED = '\u0001';

/**
 * Free text as stored in a TEXT column. PostgreSQL text cannot hold U+0000, which SQLite (and the Store
 * contract) allow, so a string holding one (or starting with the marker U+0001) is stored as the marker
 * followed by its JSON; every other string is stored unchanged. Reversed by `fromPgText`.
 */
export function pgText(s: string): string {
  return s.includes('\u0000') || s.startsWith(ESCAPED) ? ESCAPED + JSON.stringify(s) : s;
}

export function fromPgText(s: string): string {
  return s.startsWith(ESCAPED) ? (JSON.parse(s.slice(1)) as string) : s;
}

export function pgTextOrNull(s: string | null): string | null {
  return s === null ? null : pgText(s);
}

export const PG_SESSION_COLUMNS =
  'id, title, created_at, updated_at, working_dir, model, permissions, starred, input_tokens, ' +
  'output_tokens, cost, message_count, last_event_seq, settings, runner';

/** `$1, ..., $14`: one placeholder per PG_SESSION_COLUMNS entry. */
export const PG_SESSION_PLACEHOLDERS = PG_SESSION_COLUMNS.split(', ').map((_, i) => `$${i + 1}`).join(', ');

export function sessionFromPg(row: PgSessionRow): SessionRecord {
  return {
    id: row.id,
    title: fromPgText(row.title),
    created_at: row.created_at,
    updated_at: row.updated_at,
    working_dir: fromPgText(row.working_dir),
    model: fromPgText(row.model),
    permissions: JSON.parse(row.permissions) as Permissions,
    starred: row.starred,
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cost: row.cost,
    message_count: row.message_count,
    last_event_seq: Number(row.last_event_seq),
    ...settingsFromJson(row.settings),
    ...(row.runner !== null ? { runner: RunnerPlacement.parse(JSON.parse(row.runner)) } : {}),
  };
}

export { settingsJson };

/** Parameters for an INSERT of PG_SESSION_COLUMNS, in that order. */
export function sessionParams(s: SessionRecord): unknown[] {
  return [
    s.id, pgText(s.title), s.created_at, s.updated_at, pgText(s.working_dir), pgText(s.model), JSON.stringify(s.permissions), s.starred,
    s.input_tokens, s.output_tokens, s.cost, s.message_count, s.last_event_seq, settingsJson(s),
    s.runner ? JSON.stringify(s.runner) : null,
  ];
}

export function eventFromPg(sessionId: string, row: PgEventRow): StoredEvent {
  // The column only ever holds types written through the typed Store API.
  return storedEventOf(sessionId, Number(row.seq), row.type as EventType, JSON.parse(row.data), row.created_at);
}

export function rawEventFromPg(sessionId: string, row: PgEventRow): RawStoredEvent {
  // The column only ever holds types written through the typed Store API.
  return { session_id: sessionId, seq: Number(row.seq), type: row.type as EventType, data: row.data, timestamp: row.created_at };
}

export function messageFromPg(row: PgMessageRow): StoredMessage {
  return { index: row.idx, message: JSON.parse(row.data) as ConversationMessage, created_at: row.created_at };
}
