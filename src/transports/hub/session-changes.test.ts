import { describe, expect, it } from 'vitest';
import { storedEventOf, type EventType, type StoredEvent } from '../../protocol/events.js';
import { SessionChangeDeriver } from './session-changes.js';

let seq = 0;
const ev = (type: EventType, data: Record<string, unknown> = {}, session_id = 's1'): StoredEvent => {
  seq += 1;
  return storedEventOf(session_id, seq, type, data, new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString());
};

describe('SessionChangeDeriver', () => {
  it('turns a session life into list-row changes, each with its seq and time', () => {
    const d = new SessionChangeDeriver();
    seq = 0;
    const out = [
      ev('session_created', { title: 'New', model: 'm1', working_dir: '/w' }),
      ev('user_message', { content: 'hi', message_index: 0 }),
      ev('stream_started', { turn_id: 't1', model: 'm1' }),
      ev('agent_choice', { content: 'Hel' }),
      ev('tool_call_confirmation', { tool_call_id: 'c1', tool: 'bash', args: {} }),
      ev('tool_call_confirmation', { tool_call_id: 'c2', tool: 'bash', args: {} }),
      ev('tool_call_confirmed', { tool_call_id: 'c1', decision: 'approve' }),
      ev('tool_call_confirmed', { tool_call_id: 'c2', decision: 'approve' }),
      ev('tool_call_output', { tool_call_id: 'c1', stream: 'stdout', data: 'x' }),
      ev('elicitation_request', { elicitation_id: 'q1', message: 'name?' }),
      ev('elicitation_resolved', { elicitation_id: 'q1', action: 'accept' }),
      ev('token_usage', { model: 'm1', input_tokens: 5, output_tokens: 2, cached_input_tokens: 0, cost: 0.1, total_input_tokens: 15, total_output_tokens: 7, total_cost: 0.3 }),
      ev('stream_stopped', { turn_id: 't1', reason: 'normal' }),
      ev('session_title', { title: 'Greeting' }),
      ev('session_updated', { starred: true }),
      ev('model_changed', { model: 'm2', previous: 'm1' }),
      ev('session_deleted'),
    ].map((e) => d.derive(e));
    expect(out).toEqual([
      { session_id: 's1', seq: 1, timestamp: '2026-01-01T00:00:01.000Z', title: 'New', model: 'm1', working_dir: '/w', status: 'idle', activity: 'idle' },
      { session_id: 's1', seq: 2, timestamp: '2026-01-01T00:00:02.000Z' },
      expect.objectContaining({ seq: 3, status: 'running', activity: 'running' }),
      undefined,
      expect.objectContaining({ seq: 5, activity: 'waiting_confirmation' }),
      expect.objectContaining({ seq: 6, activity: 'waiting_confirmation' }),
      // One of two approvals answered: still waiting.
      expect.objectContaining({ seq: 7, activity: 'waiting_confirmation' }),
      expect.objectContaining({ seq: 8, activity: 'running' }),
      undefined,
      expect.objectContaining({ seq: 10, activity: 'waiting_input' }),
      expect.objectContaining({ seq: 11, activity: 'running' }),
      expect.objectContaining({ seq: 12, input_tokens: 15, output_tokens: 7, cost: 0.3 }),
      expect.objectContaining({ seq: 13, status: 'idle', activity: 'idle' }),
      expect.objectContaining({ seq: 14, title: 'Greeting' }),
      { session_id: 's1', seq: 15, timestamp: expect.any(String), starred: true },
      expect.objectContaining({ seq: 16, model: 'm2' }),
      { session_id: 's1', seq: 17, timestamp: expect.any(String), deleted: true },
    ]);
  });

  it('keeps sessions apart, and a stopped turn forgets its pending approvals', () => {
    const d = new SessionChangeDeriver();
    d.derive(ev('stream_started', { turn_id: 't', model: 'm' }, 'a'));
    d.derive(ev('tool_call_confirmation', { tool_call_id: 'c', tool: 'bash', args: {} }, 'a'));
    expect(d.derive(ev('elicitation_request', { elicitation_id: 'q', message: '?' }, 'b'))?.activity).toBe('waiting_input');
    d.derive(ev('stream_stopped', { turn_id: 't', reason: 'canceled' }, 'a'));
    d.derive(ev('stream_started', { turn_id: 't2', model: 'm' }, 'a'));
    expect(d.derive(ev('elicitation_request', { elicitation_id: 'q2', message: '?' }, 'a'))?.activity).toBe('waiting_input');
  });

  it('seeds a turn it did not see start from the turn\'s live state, once, and forgets it on reset', () => {
    const live = { confirmations: ['c1', 'c2'], questions: [] as string[] };
    let asked = 0;
    const d = new SessionChangeDeriver(() => (asked++, live));
    // c1 answered: c2, asked before the deriver started, still waits.
    expect(d.derive(ev('tool_call_confirmed', { tool_call_id: 'c1', decision: 'approve' }))?.activity).toBe('waiting_confirmation');
    expect(d.derive(ev('tool_call_confirmed', { tool_call_id: 'c2', decision: 'approve' }))?.activity).toBe('running');
    expect(asked).toBe(1);
    d.reset();
    live.confirmations = [];
    expect(d.derive(ev('elicitation_request', { elicitation_id: 'q', message: '?' }))?.activity).toBe('waiting_input');
    expect(asked).toBe(2);
  });
});
