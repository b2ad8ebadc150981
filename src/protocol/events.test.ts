import { describe, expect, expectTypeOf, it } from 'vitest';
import { isEventOf, typedEvent, type StoredEvent } from './events.js';

const stored: StoredEvent = {
  session_id: 's',
  seq: 3,
  type: 'tool_call',
  data: { tool_call_id: 'c1', tool: 'bash', args: { command: 'ls' } },
  timestamp: '2026-01-01T00:00:00.000Z',
};

describe('typed stored events', () => {
  it('isEventOf narrows data to the payload of the type', () => {
    expect(isEventOf(stored, 'tool_call')).toBe(true);
    expect(isEventOf(stored, 'agent_choice')).toBe(false);
    if (isEventOf(stored, 'tool_call')) {
      expectTypeOf(stored.data.tool_call_id).toEqualTypeOf<string>();
      expect(stored.data.tool).toBe('bash');
    }
  });

  it('typedEvent gives a union discriminated by type', () => {
    const event = typedEvent(stored);
    if (event.type === 'stream_stopped') expectTypeOf(event.data.reason).toEqualTypeOf<'normal' | 'max_iterations' | 'error' | 'canceled' | 'server_restart'>();
    if (event.type === 'tool_call') expectTypeOf(event.data.tool).toEqualTypeOf<string>();
    expect(event.type).toBe('tool_call');
  });
});
