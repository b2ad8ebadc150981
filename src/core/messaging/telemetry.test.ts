import { afterEach, describe, expect, it, vi } from 'vitest';
import { storedEventOf, type StoredEvent } from '../../protocol/events.js';
import type { Telemetry } from '../../protocol/telemetry.js';
import { TaskStreamDeriver } from './task-stream.js';
import { TelemetryTracker } from './telemetry.js';

let seq = 0;
// Payloads are partial on purpose (only what the tracker reads), so the event is built untyped.
const ev = (type: StoredEvent['type'], data: Record<string, unknown>, at = 0, session_id = 's1'): StoredEvent =>
  storedEventOf(session_id, ++seq, type, data, new Date(Date.UTC(2026, 0, 1) + at * 1000).toISOString());

afterEach(() => vi.useRealTimers());

describe('TelemetryTracker', () => {
  it('folds turns, tokens, cost and status, and publishes at most once per interval per session', () => {
    vi.useFakeTimers();
    const sent: Telemetry[] = [];
    const tracker = new TelemetryTracker((t) => sent.push(t), 1000, () => Date.now());
    tracker.apply(ev('session_created', { title: 'T', model: 'm', working_dir: '/w' }));
    tracker.apply(ev('stream_started', { turn_id: 't1', model: 'm' }, 0));
    tracker.apply(ev('token_usage', { total_input_tokens: 10, total_output_tokens: 5, total_cost: 0.5, input_tokens: 10, output_tokens: 5, cost: 0.5 }, 1));
    tracker.apply(ev('stream_stopped', { turn_id: 't1', reason: 'normal' }, 3));
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ instance_id: 's1', title: 'T', turns: 1, tokens_in: 10, tokens_out: 5, cost: 0.5, status: 'completed', duration_sec: 3, pid: process.pid });
    tracker.apply(ev('stream_started', { turn_id: 't2', model: 'm' }, 10, 's2'));
    expect(sent.at(-1)).toMatchObject({ instance_id: 's2', status: 'running' });
    expect(tracker.snapshot().map((t) => t.instance_id).sort()).toEqual(['s1', 's2']);
    tracker.apply(ev('session_deleted', {}, 11, 's2'));
    expect(tracker.snapshot().map((t) => t.instance_id)).toEqual(['s1']);
    tracker.close();
  });
});

describe('TaskStreamDeriver', () => {
  it('maps a turn onto seed 001 stream types with its context', () => {
    const d = new TaskStreamDeriver();
    const info = { working_dir: '/w' };
    const out = [
      ev('user_message', { content: 'do the thing', message_index: 0 }),
      ev('stream_started', { turn_id: 't1', model: 'm' }),
      ev('agent_choice', { content: 'ok' }),
      ev('tool_call', { tool_call_id: 'c', tool: 'bash', args: { command: 'ls' } }),
      ev('tool_call_confirmation', { tool_call_id: 'c', tool: 'bash', args: {} }),
      ev('tool_call_response', { tool_call_id: 'c', tool: 'bash', result: 'boom', is_error: true }),
      ev('token_usage', { input_tokens: 3, output_tokens: 4, cost: 0.1 }),
      ev('error', { code: 'model_error', message: 'bad' }),
      ev('stream_stopped', { turn_id: 't1', reason: 'error' }, 2),
      ev('agent_choice', { content: 'after the turn' }),
    ].map((e) => d.derive(e, info));
    expect(out.map((f) => f?.stream_type)).toEqual([undefined, 'turn_start', 'text', 'tool_use', 'status', 'tool_result', undefined, 'error', 'turn_end', undefined]);
    expect(out[1]).toMatchObject({ task_id: 't1', turn_num: 1, directive: 'do the thing', directive_full: 'do the thing', workspace: '/w', agent_id: 's1', source_type: 'direct', status: 'running' });
    expect(out[3]).toMatchObject({ tool_name: 'bash', tool_input: '{"command":"ls"}' });
    expect(out[5]).toMatchObject({ error_msg: 'boom' });
    expect(out[8]).toMatchObject({ status: 'failed', tokens_in: 3, tokens_out: 4, cost: 0.1, duration_sec: 2, task_id: 't1' });
  });
});

describe('TaskStreamDeriver thread binding', () => {
  it('carries the thread a session last posted to or read, and none before', () => {
    const d = new TaskStreamDeriver();
    const out = [
      ev('stream_started', { turn_id: 't1', model: 'm' }, 0, 'b1'),
      ev('agent_choice', { content: 'hi' }, 0, 'b1'),
      ev('tool_call', { tool_call_id: 'c1', tool: 'thread_post', args: { thread_id: 'th_a', content: 'x' } }, 0, 'b1'),
      ev('tool_call_response', { tool_call_id: 'c1', tool: 'thread_post', result: '{}', is_error: false }, 0, 'b1'),
      ev('tool_call', { tool_call_id: 'c2', tool: 'thread_read', args: { thread_id: 'th_b' } }, 0, 'b1'),
      ev('tool_call', { tool_call_id: 'c3', tool: 'bash', args: { thread_id: 'not_a_thread' } }, 0, 'b1'),
      ev('agent_choice', { content: 'other session' }, 0, 'b2'),
    ].map((e) => d.derive(e, undefined));
    expect(out[1]?.thread_id).toBeUndefined();
    expect(out[2]?.thread_id).toBe('th_a');
    expect(out[3]?.thread_id).toBe('th_a');
    expect(out[4]?.thread_id).toBe('th_b');
    expect(out[5]?.thread_id).toBe('th_b');
    d.forget('b1');
    const after = [ev('stream_started', { turn_id: 't2', model: 'm' }, 0, 'b1'), ev('agent_choice', { content: 'x' }, 0, 'b1')].map((e) => d.derive(e, undefined));
    expect(after[1]?.thread_id).toBeUndefined();
  });
});
