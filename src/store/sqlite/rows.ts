import type { ConversationMessage, StoredMessage } from '../../protocol/conversation.js';
import { storedEventOf, type EventType, type StoredEvent } from '../../protocol/events.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { RunnerPlacement, type Permissions } from '../../protocol/session.js';
import { settingsFromJson, settingsJson } from '../commit-plan.js';
import type { SessionRecord } from '../types.js';

export { settingsJson };

/** Row shapes as better-sqlite3 returns them, and their conversion to the Store's types. */

export interface SessionRow {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  working_dir: string;
  model: string;
  permissions: string;
  starred: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  message_count: number;
  last_event_seq: number;
  settings: string;
  runner: string | null;
}

export interface EventRow {
  seq: number;
  type: string;
  data: string;
  created_at: string;
}

/** An event row in raw mode: seq, type, data, created_at. */
export type EventTuple = [number, string, string, string];

export interface MessageRow {
  idx: number;
  data: string;
  created_at: string;
}

export const SESSION_COLUMNS =
  'id, title, created_at, updated_at, working_dir, model, permissions, starred, input_tokens, ' +
  'output_tokens, cost, message_count, last_event_seq, settings, runner';

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    title: row.title,
    created_at: row.created_at,
    updated_at: row.updated_at,
    working_dir: row.working_dir,
    model: row.model,
    permissions: JSON.parse(row.permissions) as Permissions,
    starred: row.starred !== 0,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cost: row.cost,
    message_count: row.message_count,
    last_event_seq: row.last_event_seq,
    ...settingsFromJson(row.settings),
    ...(row.runner !== null ? { runner: RunnerPlacement.parse(JSON.parse(row.runner)) } : {}),
  };
}

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

export function eventFromRow(sessionId: string, row: EventRow): StoredEvent {
  // The column only ever holds types written through the typed Store API.
  return storedEventOf(sessionId, row.seq, row.type as EventType, JSON.parse(row.data), row.created_at);
}

export function rawEventFromTuple(sessionId: string, row: EventTuple): RawStoredEvent {
  // The column only ever holds types written through the typed Store API.
  return { session_id: sessionId, seq: row[0], type: row[1] as EventType, data: row[2], timestamp: row[3] };
}

export function messageFromRow(row: MessageRow): StoredMessage {
  return {
    index: row.idx,
    message: JSON.parse(row.data) as ConversationMessage,
    created_at: row.created_at,
  };
}
