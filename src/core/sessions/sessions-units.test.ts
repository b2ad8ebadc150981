import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../protocol/conversation.js';
import type { SessionRecord } from '../../store/types.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { IDEMPOTENCY_MEMORY, SessionQueues, type QueueSet } from './queues.js';
import { planUpdate } from './records.js';
import { danglingToolCalls } from './recovery.js';
import { fallbackTitle } from './titles.js';

const record: SessionRecord = testSessionRecord('s', { title: 't', model: 'a/b', permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false } });

describe('SessionQueues helpers', () => {
  it('persists each queue as JSON and an empty one as a deleted row', () => {
    const set: QueueSet = { steer: SessionQueues.newItems(['a']), followup: [], keys: [{ key: 'k', fingerprint: 'f' }] };
    const state = SessionQueues.stateOf(set, ['steer', 'followup', 'keys']);
    expect(JSON.parse(state['queue:steer']!)).toEqual(set.steer);
    expect(state['queue:followup']).toBeNull();
    expect(state.idempotency_keys).toBe('[{"key":"k","fingerprint":"f"}]');
  });

  it('remembers the last 256 idempotency keys and forgets a released one', () => {
    const set: QueueSet = { steer: [], followup: [], keys: [] };
    for (let i = 0; i < IDEMPOTENCY_MEMORY + 10; i++) SessionQueues.remember(set, `k${i}`);
    expect(set.keys).toHaveLength(IDEMPOTENCY_MEMORY);
    expect(set.keys[0]).toEqual({ key: 'k10' });
    SessionQueues.forgetKey(set, 'k100');
    expect(SessionQueues.findKey(set, 'k100')).toBeUndefined();
    expect(SessionQueues.findKey(set, 'k101')).toEqual({ key: 'k101' });
  });
});

describe('planUpdate', () => {
  it('emits one event per kind of change, each with its own patch', () => {
    const plan = planUpdate(record, { title: 'new', starred: true, model: 'a/c', permissions: { policy: 'strict' } });
    expect(plan.events.map((e) => e.event.type)).toEqual(['session_updated', 'model_changed', 'permissions_changed']);
    expect(plan.events[1]?.event.data).toEqual({ model: 'a/c', previous: 'a/b' });
    expect(plan.permissions?.policy).toBe('strict');
  });

  it('records nothing for a switch to the current model, and refuses junk rules', () => {
    expect(planUpdate(record, { model: 'a/b' }).events).toEqual([]);
    expect(() => planUpdate(record, { permissions: { allow: ['bash:'] } })).toThrow(/rule|invalid/i);
  });
});

describe('danglingToolCalls', () => {
  it('finds the calls of the last assistant message that have no result', () => {
    const messages: ConversationMessage[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'a', name: 'bash', args: {} }, { id: 'b', name: 'read', args: {} }] },
      { role: 'tool', tool_call_id: 'a', tool_name: 'bash', content: 'ok', is_error: false },
    ];
    expect(danglingToolCalls(messages)).toEqual([{ id: 'b', name: 'read' }]);
    expect(danglingToolCalls(messages.slice(0, 1))).toEqual([]);
  });
});

describe('fallbackTitle', () => {
  it('keeps short messages, folds whitespace, and cuts long ones at a word', () => {
    expect(fallbackTitle('  fix   the\nbuild ')).toBe('fix the build');
    const long = fallbackTitle('Refactor the event log so that it batches writes, and then benchmark it thoroughly');
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.endsWith('…')).toBe(true);
    expect(fallbackTitle('   ')).toBe('Untitled session');
  });
});
