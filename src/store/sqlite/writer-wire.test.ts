import { describe, expect, it } from 'vitest';
import { testSessionRecord } from '../testing/fixtures.js';
import type { CommitEntry } from '../types.js';
import type { WriterEntry } from './commit.js';
import { decodeBatch, encodeBatch, transfers } from './writer-wire.js';

/** What the thread must see of an entry: what `CommitWriter` reads, with the JSON encoded. */
function expected(e: CommitEntry): WriterEntry {
  const { data, encoded, message, replace_last_message, ...rest } = e;
  return {
    ...rest,
    encoded: {
      data: encoded?.data ?? JSON.stringify(data),
      ...(message ? { message: encoded?.message ?? JSON.stringify(message) } : {}),
      ...(replace_last_message ? { replace_last_message: encoded?.replace_last_message ?? JSON.stringify(replace_last_message) } : {}),
    },
    ...(message ? { message: { role: message.role } } : {}),
    ...(replace_last_message ? { replace_last_message: { role: replace_last_message.role } } : {}),
  };
}

describe('writer thread wire batch', () => {
  it('decodes to the entries it was encoded from, extras and non-ASCII included, through a real clone', () => {
    const ts = '2026-01-01T00:00:00.000Z';
    const entries: CommitEntry[] = [
      { session_id: 's1', type: 'agent_choice', data: { content: 'tok ' }, timestamp: ts, encoded: { data: '{"content":"tok "}' } },
      { session_id: 'sé-2', type: 'agent_choice', data: { content: 'ünï 😀' }, timestamp: ts },
      {
        session_id: 's3',
        type: 'user_message',
        data: { text: 'hi' },
        timestamp: ts,
        create_session: testSessionRecord('s3'),
        message: { role: 'user', content: 'hi' },
        state: { k: 'v', gone: null },
        expect_state: { k: null },
      },
      {
        session_id: 's1',
        type: 'agent_choice',
        data: {},
        timestamp: ts,
        replace_last_message: { role: 'assistant', content: 'done' },
        message: { role: 'assistant', content: 'next' },
        encoded: { data: '{}', replace_last_message: '{"r":1}', message: '{"m":2}' },
        session: { title: 't' },
      },
      { session_id: 's3', type: 'session_deleted', data: {}, timestamp: '', delete_session: true },
      { session_id: '', type: 'agent_choice', data: { content: '' }, timestamp: ts },
    ];
    const wire = encodeBatch(entries);
    const cloned = structuredClone(wire, { transfer: transfers(wire) });
    expect(wire.ends.length).toBe(0); // moved, not copied
    expect(decodeBatch(cloned)).toEqual(entries.map(expected));
  });

  it('encodes an empty batch', () => {
    const wire = encodeBatch([]);
    expect(decodeBatch(structuredClone(wire, { transfer: transfers(wire) }))).toEqual([]);
  });
});
