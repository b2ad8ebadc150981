import type { CommitEntry, SessionRecord } from '../types.js';
import type { EventType } from '../../protocol/events.js';

/** Fixtures shared by the store conformance suite and the tests of the layers above the store. */

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
export const ts = (n: number): string => new Date(T0 + n * 1000).toISOString();

export function testSessionRecord(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    title: `title ${id}`,
    created_at: ts(0),
    updated_at: ts(0),
    working_dir: '/tmp/work',
    model: 'fake/model',
    permissions: { allow: ['read_*'], ask: [], deny: ['bash:cmd=rm *'], policy: 'balanced', auto_approve: false },
    starred: false,
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
    message_count: 0,
    last_event_seq: 0,
    ...overrides,
  };
}

export function testEntry(session_id: string, n: number, extra: Partial<CommitEntry> = {}): CommitEntry {
  const type: EventType = 'agent_choice';
  return { session_id, type, data: { content: `c${n}` }, timestamp: ts(n), ...extra };
}

