import type { SessionExport } from '../../protocol/api.js';
import type { StoredMessage } from '../../protocol/conversation.js';
import { TowerError } from '../../protocol/errors.js';
import { redactedPaths, SECRET_MARKER, withRedactedMcp } from '../../protocol/mcp-secrets.js';
import type { McpSettings } from '../../protocol/mcp.js';
import { storedEventOf, type StoredEvent } from '../../protocol/events.js';
import type { SessionRecord, Store } from '../../store/types.js';
import type { EventLog } from '../event-log/index.js';
import { newSessionId } from '../ids.js';
import { validatePermissions } from '../permissions/index.js';

const PAGE = 5_000;

/** Every event of a session, read page by page. */
export async function readAllEvents(store: Store, id: string): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await store.readEvents(id, all.length ? all[all.length - 1]!.seq : 0, PAGE);
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

/** A self-contained copy of a session: its row, conversation and whole event log. */
export async function exportSession(store: Store, id: string): Promise<SessionExport | undefined> {
  const snap = await store.snapshot(id);
  if (!snap) return undefined;
  // Events are read up to the snapshot's seq, so the three parts describe one moment.
  const events = (await readAllEvents(store, id)).filter((e) => e.seq <= snap.session.last_event_seq);
  // MCP secrets stay in this store: an export is read, copied and mailed around like any other file.
  return { version: 1, session: withRedactedMcp(snap.session), messages: snap.messages, events };
}

/** Restores an export under its own id. The export must be internally consistent. */
export async function importSession(store: Store, data: SessionExport): Promise<SessionRecord> {
  const id = data.session.id;
  // The rules the API refuses on create and PATCH are refused here too.
  validatePermissions(data.session.permissions);
  const redacted = redactedPaths(data.session.mcp);
  if (redacted.length) {
    throw new TowerError(
      'invalid_request',
      `session.mcp ${redacted.join(', ')} hold "${SECRET_MARKER}": exports carry no MCP secrets; put the real values ` +
        'in (or remove those keys) before importing',
    );
  }
  checkContiguous(data.events.map((e) => e.seq), 1, 'events must have seqs 1..N without gaps');
  checkContiguous(data.messages.map((m) => m.index), 0, 'messages must have indexes 0..N-1 without gaps');
  if (data.events.some((e) => e.session_id !== id)) {
    throw new TowerError('invalid_request', 'every event must belong to the exported session');
  }
  // Null placement means "on the server", stored as no placement, as create does.
  const { runner, ...session } = data.session;
  const record: SessionRecord = {
    ...session,
    ...(runner ? { runner } : {}),
    last_event_seq: data.events.length,
    message_count: data.messages.length,
  };
  // Each payload was checked against its type's schema by `SessionImportBody`. An export made by an older
  // Tower may hold MCP secrets in its `session_updated` events: they are stored redacted, as new ones are.
  const events = data.events.map((e) =>
    storedEventOf(e.session_id, e.seq, e.type, e.type === 'session_updated' ? withRedactedMcp(e.data as { mcp?: McpSettings }) : e.data, e.timestamp),
  );
  await store.importSession(record, data.messages, events);
  return record;
}

/**
 * A new session holding the conversation before the user message at `messageIndex`, and the events
 * before that message's `user_message` event, so clients can replay the fork from seq 1.
 */
export async function forkSession(store: Store, log: EventLog, id: string, messageIndex: number): Promise<SessionRecord> {
  const source = await store.snapshot(id);
  if (!source) throw new TowerError('unknown_session', `No session with id "${id}"`);
  const target = source.messages[messageIndex];
  if (target?.message.role !== 'user') {
    throw new TowerError('invalid_request', `message_index ${messageIndex} is not a user message of this session`);
  }
  const events = await readAllEvents(store, id);
  const cut = events.find((e) => e.type === 'user_message' && e.data.message_index === messageIndex);
  const forkId = newSessionId();
  const prefix = (cut ? events.filter((e) => e.seq < cut.seq) : []).map((e) => ({ ...e, session_id: forkId }));
  const usage = prefix.filter((e) => e.type === 'token_usage');
  const sum = (key: 'input_tokens' | 'output_tokens' | 'cost'): number => usage.reduce((acc, e) => acc + e.data[key], 0);
  const messages: StoredMessage[] = source.messages.slice(0, messageIndex);
  const now = new Date().toISOString();
  const record: SessionRecord = {
    ...source.session,
    id: forkId,
    title: source.session.title ? `${source.session.title} (fork)` : '',
    created_at: now,
    updated_at: now,
    starred: false,
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cost: sum('cost'),
    message_count: messages.length,
    last_event_seq: prefix.length + 1,
  };
  // One transaction for the copy and its `session_forked`: a failure leaves no half-made fork behind.
  const event = await log.importWith(record, messages, prefix, {
    type: 'session_forked',
    data: { from_session_id: id, message_index: messageIndex },
  });
  return { ...record, last_event_seq: event.seq };
}

function checkContiguous(values: number[], first: number, message: string): void {
  values.forEach((v, i) => {
    if (v !== first + i) throw new TowerError('invalid_request', message);
  });
}
