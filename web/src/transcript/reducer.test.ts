import { describe, expect, it } from 'vitest';
import type { WireEvent } from '../api/types.js';
import { applyEvent, applyEvents, hasGap, initialTranscript, type TranscriptState } from './reducer.js';

const S = 'ses_1';
let clock = Date.parse('2026-01-01T00:00:00Z');
type Payload = Record<string, unknown> & { type: WireEvent['type'] };
function ev(seq: number, p: Payload): WireEvent {
  clock += 1000;
  return { ...p, seq, session_id: S, timestamp: new Date(clock).toISOString() } as unknown as WireEvent;
}

/** A turn: user asks, reasoning, streamed text, a bash call needing approval with live output, usage. */
function turn(): WireEvent[] {
  return [
    ev(1, { type: 'session_created', title: 'New', model: 'fake/m', working_dir: '/w' }),
    ev(2, { type: 'user_message', content: 'hi', message_index: 0 }),
    ev(3, { type: 'stream_started', turn_id: 't1', model: 'fake/m' }),
    ev(4, { type: 'agent_choice_reasoning', content: 'think ' }),
    ev(5, { type: 'agent_choice_reasoning', content: 'more' }),
    ev(6, { type: 'agent_choice', content: 'Hello' }),
    ev(7, { type: 'agent_choice', content: ' world' }),
    ev(8, { type: 'tool_call', tool_call_id: 'c1', tool: 'bash', args: { command: 'ls' } }),
    ev(9, { type: 'tool_call_confirmation', tool_call_id: 'c1', tool: 'bash', args: { command: 'ls' } }),
    ev(10, { type: 'tool_call_confirmed', tool_call_id: 'c1', decision: 'approve' }),
    ev(11, { type: 'tool_call_output', tool_call_id: 'c1', stream: 'stdout', data: 'a\n' }),
    ev(12, { type: 'tool_call_output', tool_call_id: 'c1', stream: 'stdout', data: 'b\n' }),
    ev(13, { type: 'tool_call_response', tool_call_id: 'c1', tool: 'bash', result: 'a\nb\n', is_error: false }),
    ev(14, {
      type: 'token_usage', model: 'fake/m', input_tokens: 10, output_tokens: 4, cached_input_tokens: 0, cost: 0.01,
      total_input_tokens: 10, total_output_tokens: 4, total_cost: 0.01,
    }),
    ev(15, { type: 'session_title', title: 'Greeting' }),
    ev(16, { type: 'stream_stopped', turn_id: 't1', reason: 'normal' }),
  ];
}

const fold = (events: WireEvent[]): TranscriptState => events.reduce(applyEvent, initialTranscript(S));
const view = (s: TranscriptState) => ({ items: s.items, applied: s.applied, title: s.title, totals: s.totals, streaming: s.streaming });

describe('transcript reducer', () => {
  it('folds a turn into lines: text and reasoning grow in place, the tool call gathers its output and result', () => {
    const s = fold(turn());
    expect(s.applied).toBe(16);
    expect(s.items.map((i) => i.kind)).toEqual(['user', 'reasoning', 'text', 'tool', 'usage']);
    expect(s.items[1]).toMatchObject({ kind: 'reasoning', content: 'think more' });
    expect(s.items[2]).toMatchObject({ kind: 'text', content: 'Hello world', key: 'e6' });
    expect(s.items[3]).toMatchObject({ kind: 'tool', args: { command: 'ls' }, output: 'a\nb\n', result: 'a\nb\n', confirmation: 'approve', isError: false });
    expect(s.items[4]).toMatchObject({ kind: 'usage', input: 10, output: 4, cost: 0.01 });
    expect(s).toMatchObject({ title: 'Greeting', streaming: false, totals: { input: 10, output: 4, cost: 0.01 }, pendingConfirmations: [] });
    expect(s.usage).toHaveLength(1);
  });

  it('is the same whatever the delivery order: reversed, shuffled, or in batches', () => {
    const events = turn();
    const expected = view(fold(events));
    expect(view(fold([...events].reverse()))).toEqual(expected);
    const shuffled = [...events].sort((a, b) => ((a.seq * 7919) % 17) - ((b.seq * 7919) % 17));
    expect(view(fold(shuffled))).toEqual(expected);
    expect(view(applyEvents(applyEvents(initialTranscript(S), events.slice(8)), events.slice(0, 8)))).toEqual(expected);
  });

  it('ignores duplicates: a replay from 0 after a reconnect changes nothing', () => {
    const events = turn();
    const once = fold(events);
    const twice = applyEvents(once, events);
    expect(twice).toBe(once);
    const overlap = fold([...events.slice(0, 10), ...events.slice(5), ...events.slice(2, 12)]);
    expect(view(overlap)).toEqual(view(once));
    const text = overlap.items.find((i) => i.kind === 'text');
    expect(text).toMatchObject({ content: 'Hello world' });
  });

  it('holds events after a gap until the gap fills, and shows nothing past the hole', () => {
    const events = turn();
    let s = fold(events.slice(0, 5));
    s = applyEvents(s, events.slice(7, 10));
    expect(s.applied).toBe(5);
    expect(hasGap(s)).toBe(true);
    expect(s.items.some((i) => i.kind === 'tool')).toBe(false);
    s = applyEvents(s, [events[6]!]);
    expect(s.applied).toBe(5);
    s = applyEvents(s, [events[5]!]);
    expect(s.applied).toBe(10);
    expect(hasGap(s)).toBe(false);
    s = applyEvents(s, events.slice(10));
    expect(view(s)).toEqual(view(fold(events)));
  });

  it('keeps pending approvals, questions and the queues', () => {
    let s = fold(turn().slice(0, 9));
    expect(s.pendingConfirmations).toEqual(['c1']);
    expect(s.streaming).toBe(true);
    s = applyEvents(s, [
      ev(10, { type: 'message_queued', queue: 'steer', item_id: 'q1', content: 'faster', depth: 1 }),
      ev(11, { type: 'message_queued', queue: 'followup', item_id: 'q2', content: 'then this', depth: 1 }),
      ev(12, { type: 'elicitation_request', elicitation_id: 'el1', message: 'Name?', schema: { type: 'object' } }),
    ]);
    expect(s.queues.steer.map((q) => q.itemId)).toEqual(['q1']);
    expect(s.pendingQuestions).toEqual(['el1']);
    s = applyEvents(s, [
      ev(13, { type: 'tool_call_confirmed', tool_call_id: 'c1', decision: 'reject', reason: 'no' }),
      ev(14, { type: 'user_message', content: 'faster', message_index: 2, steered: true, queue_item_id: 'q1' }),
      ev(15, { type: 'queue_cleared', queue: 'followup', item_ids: ['q2'] }),
      ev(16, { type: 'elicitation_resolved', elicitation_id: 'el1', action: 'accept' }),
    ]);
    expect(s.pendingConfirmations).toEqual([]);
    expect(s.pendingQuestions).toEqual([]);
    expect(s.queues).toEqual({ steer: [], followup: [] });
    expect(s.items.find((i) => i.kind === 'tool')).toMatchObject({ confirmation: 'reject', reason: 'no' });
    expect(s.items.find((i) => i.kind === 'question')).toMatchObject({ action: 'accept' });
    expect(s.items.at(-1)).toMatchObject({ kind: 'user', steered: true });
  });

  it('ignores events of another session and junk seqs, and does not change its input', () => {
    const start = initialTranscript(S);
    const other = { ...turn()[0]!, session_id: 'other' } as WireEvent;
    const junk = { ...turn()[0]!, seq: Number.NaN } as WireEvent;
    expect(applyEvents(start, [other, junk])).toBe(start);
    const frozen = fold(turn().slice(0, 6));
    const before = JSON.stringify(frozen.items);
    applyEvents(frozen, turn().slice(6));
    expect(JSON.stringify(frozen.items)).toBe(before);
  });

  it('folds 10,000 events into one line per streamed step', () => {
    const events: WireEvent[] = [ev(1, { type: 'session_created', title: 'Big', model: 'm', working_dir: '/' })];
    for (let i = 0; events.length < 10_000; i++) {
      events.push(ev(events.length + 1, { type: 'user_message', content: `q${i}`, message_index: i * 2 }));
      for (let k = 0; k < 8; k++) events.push(ev(events.length + 1, { type: 'agent_choice', content: `w${k} ` }));
    }
    const s = applyEvents(initialTranscript(S), events.slice(0, 10_000));
    expect(s.applied).toBe(10_000);
    expect(s.items.filter((i) => i.kind === 'user')).toHaveLength(1111);
  });
});
