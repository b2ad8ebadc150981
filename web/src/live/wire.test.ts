import { describe, expect, it } from 'vitest';
import { threadMessagesOf, wireEventsOf } from './wire.js';

describe('wire guards', () => {
  it('keeps events with an envelope and drops junk', () => {
    const good = { type: 'agent_choice', seq: 3, session_id: 's', timestamp: 't', content: 'x' };
    expect(wireEventsOf([good, null, 7, { type: 'x', seq: 0, session_id: 's' }, { type: 'x', seq: 1.5, session_id: 's' }, { seq: 2, session_id: 's' }])).toEqual([good]);
    expect(wireEventsOf(good)).toEqual([good]);
    expect(wireEventsOf('nope')).toEqual([]);
  });
  it('keeps thread messages with thread_id, message_seq and content', () => {
    const m = { id: 'm', thread_id: 't', message_seq: 1, content: 'hi' };
    expect(threadMessagesOf([m, { thread_id: 't', message_seq: '1', content: 'x' }, []])).toEqual([m]);
    expect(threadMessagesOf(m)).toEqual([m]);
  });
});
