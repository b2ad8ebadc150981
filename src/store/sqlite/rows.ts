import type { ConversationMessage, StoredMessage } from '../../protocol/conversation.js';
import { storedEventOf, type EventType, type StoredEvent } from '../../protocol/events.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { RunnerPlacement, type Permissions } from '../../protocol/session.js';
import { settingsFromJson } from '../settings-json.js';
import type { SessionRow } from './session-row.js';
import type { SessionRecord } from '../types.js';

export { SESSION_COLUMNS, sessionToRow, settingsJson, type SessionRow } from './session-row.js';

/** Row shapes as better-sqlite3 returns them, and their conversion to the Store's types. */

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
