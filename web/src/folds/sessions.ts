import type { Session, SessionChange } from '../api/types.js';
import type { ListStatus } from '../pages/sessionStatus.js';

export interface Row {
  s: Session;
  status: ListStatus;
}

/** The list by session id, and deleted ids with the seq of their deletion (so nothing older revives them). */
export interface SessionRows {
  rows: ReadonlyMap<string, Row>;
  gone: ReadonlyMap<string, number>;
}

const ACTIVITY: Record<NonNullable<SessionChange['activity']>, ListStatus> = {
  idle: 'idle',
  running: 'running',
  waiting_confirmation: 'waiting for approval',
  waiting_input: 'waiting for an answer',
};

export const emptyRows = (): SessionRows => ({ rows: new Map(), gone: new Map() });

/** A fresh read of the list replaces the rows; the deletions seen stay (the read may predate them). */
export function loadRows(prev: SessionRows | undefined, loaded: readonly Row[]): SessionRows {
  const gone = new Map(prev?.gone ?? []);
  const rows = new Map<string, Row>();
  for (const r of loaded) if (!gone.has(r.s.id)) rows.set(r.s.id, r);
  return { rows, gone };
}

const isChange = (v: unknown): v is SessionChange =>
  typeof v === 'object' && v !== null && typeof (v as SessionChange).session_id === 'string' && Number.isSafeInteger((v as SessionChange).seq);

/**
 * Folds one change into the list. A change at or below the row's `last_event_seq` is already in it
 * (a read after the change, or a repeat) and changes nothing; a change for a session the list does not
 * hold makes a row only when it is the creation.
 */
export function foldChange(state: SessionRows, change: unknown): SessionRows {
  if (!isChange(change)) return state;
  const id = change.session_id;
  // Nothing follows a deletion; anything before it is stale.
  if (state.gone.has(id)) return state;
  const row = state.rows.get(id);
  if (change.deleted) {
    const rows = new Map(state.rows);
    rows.delete(id);
    return { rows, gone: new Map(state.gone).set(id, change.seq) };
  }
  if (row && change.seq <= row.s.last_event_seq) return state;
  if (!row && change.title === undefined) return state;
  const base: Session = row?.s ?? {
    id,
    title: '',
    created_at: change.timestamp,
    updated_at: change.timestamp,
    working_dir: '',
    model: '',
    permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false },
    starred: false,
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
    message_count: 0,
    status: 'idle',
    last_event_seq: 0,
  };
  const s: Session = {
    ...base,
    updated_at: change.timestamp,
    last_event_seq: change.seq,
    ...(change.title !== undefined ? { title: change.title } : {}),
    ...(change.model !== undefined ? { model: change.model } : {}),
    ...(change.working_dir !== undefined ? { working_dir: change.working_dir } : {}),
    ...(change.starred !== undefined ? { starred: change.starred } : {}),
    ...(change.status !== undefined ? { status: change.status } : {}),
    ...(change.input_tokens !== undefined ? { input_tokens: change.input_tokens } : {}),
    ...(change.output_tokens !== undefined ? { output_tokens: change.output_tokens } : {}),
    ...(change.cost !== undefined ? { cost: change.cost } : {}),
  };
  const status = change.activity ? ACTIVITY[change.activity] : s.status === 'running' ? (row?.status ?? 'running') : 'idle';
  return { rows: new Map(state.rows).set(id, { s, status }), gone: state.gone };
}
