import { describe, expect, expectTypeOf, it } from 'vitest';
import { isEventOf, storedEventOf, typedEvent, type EventPayload, type NewEvent, type StopReason, type StoredEvent } from './events.js';

const stored: StoredEvent = {
  session_id: 's',
  seq: 3,
  type: 'tool_call',
  data: { tool_call_id: 'c1', tool: 'bash', args: { command: 'ls' } },
  timestamp: '2026-01-01T00:00:00.000Z',
};

/** What a consumer does: switch on the type and read the payload without a cast. */
function describeEvent(event: StoredEvent): string {
  switch (event.type) {
    case 'tool_call':
      expectTypeOf(event.data.tool).toEqualTypeOf<string>();
      return `${event.data.tool} ${JSON.stringify(event.data.args)}`;
    case 'stream_stopped':
      expectTypeOf(event.data.reason).toEqualTypeOf<StopReason>();
      return event.data.reason;
    case 'token_usage':
      expectTypeOf(event.data.input_tokens).toEqualTypeOf<number>();
      return String(event.data.input_tokens + event.data.output_tokens);
    default:
      return event.type;
  }
}

describe('StoredEvent is discriminated by type', () => {
  it('switch (event.type) narrows data to the payload of that type', () => {
    expect(describeEvent(stored)).toBe('bash {"command":"ls"}');
    expect(describeEvent(storedEventOf('s', 4, 'stream_stopped', { turn_id: 't', reason: 'normal' }, ''))).toBe('normal');
  });

  it('data is never loose again (type level: tsc fails this file if it were)', () => {
    expectTypeOf<Extract<StoredEvent, { type: 'tool_call_response' }>['data']>().toEqualTypeOf<EventPayload<'tool_call_response'>>();
    expectTypeOf<StoredEvent['data']>().not.toEqualTypeOf<Record<string, unknown>>();
    // A payload of the wrong shape does not compile, for stored events and for appends alike.
    // @ts-expect-error agent_choice carries `content`, not `text`
    const wrong: StoredEvent = { session_id: 's', seq: 1, type: 'agent_choice', data: { text: 'x' }, timestamp: '' };
    // @ts-expect-error stream_stopped's reason is one of StopReason
    const append: NewEvent = { type: 'stream_stopped', data: { turn_id: 't', reason: 'finished' } };
    expect([wrong.type, append.type]).toEqual(['agent_choice', 'stream_stopped']);
  });

  it('isEventOf and typedEvent still narrow (callers written before)', () => {
    expect(isEventOf(stored, 'tool_call')).toBe(true);
    expect(isEventOf(stored, 'agent_choice')).toBe(false);
    if (isEventOf(stored, 'tool_call')) expectTypeOf(stored.data.tool_call_id).toEqualTypeOf<string>();
    const event = typedEvent(stored);
    expect(event).toBe(stored);
  });
});
