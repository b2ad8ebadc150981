import { describe, expect, it } from 'vitest';
import { toWire, type StoredEvent } from './events.js';
import { spliceFlag } from './wire-splice.js';

const TS = '2025-01-02T03:04:05.678Z';

/** What the SQL frames build for a flagged row: the text minus `}`, then the envelope, quoted verbatim. */
function spliced(data: string, type: string, seq: number, timestamp: string): string {
  const envelope = `"type":"${type}","seq":${seq},"session_id":"s","timestamp":"${timestamp}"}`;
  return data === '{}' ? `{${envelope}` : `${data.slice(0, -1)},${envelope}`;
}

describe('spliceFlag', () => {
  it('flags exactly the rows whose splice is the object way, for payloads of every shape', () => {
    const payloads: unknown[] = [
      { content: 'plain' },
      {},
      { content: 'ünïcødé 😀 \u0000 \u001e RS \u001f \u2028 lone \ud800', '\u001e': 'an RS key' },
      { content: [{ type: 'text', text: 'hi' }], schema: { type: 'object', properties: { seq: { type: 'integer' } } } },
      { content: '"type":"x","seq":1', 'a"type"b': 1, 'ends \\': { __proto__x: 1 } },
      { '10': 'integer key', z: [1, 2.5, null, true] },
      { content: '}' },
      // Top-level envelope names (and __proto__): only the object way.
      { content: 'x', type: 'other' },
      { nested: { a: 1 }, seq: 3 },
      { timestamp: 't', session_id: 's' },
      JSON.parse('{"__proto__": {"polluted": 1}, "content": "p"}'),
      // Not objects at all.
      [1, 2],
      'a string',
      42,
      null,
      true,
    ];
    for (const payload of payloads) {
      const data = JSON.stringify(payload);
      const event = { session_id: 's', seq: 7, type: 'agent_choice', data: payload, timestamp: TS } as StoredEvent;
      const right = JSON.stringify(toWire(event)) === spliced(data, 'agent_choice', 7, TS);
      expect(spliceFlag(data, 'agent_choice', TS), data).toBe(right ? 1 : 0);
    }
  });

  // Stored text is always `JSON.stringify` output (text that is not JSON no reader could parse either):
  // what matters is JSON that is not one object, and unbalanced text around an envelope name.
  it('is 0 for types and timestamps JSON would escape, and for text that is not one object', () => {
    expect(spliceFlag('{"content":"c"}', 'agent_choice', TS)).toBe(1);
    for (const timestamp of ['', 'odd "ts"', 'back\\slash', 'new\nline', 'ü', '2025-01-02 03:04:05', `${TS}\u001e`]) {
      expect(spliceFlag('{"content":"c"}', 'agent_choice', timestamp), timestamp).toBe(0);
    }
    for (const type of ['', 'a"b', 'ü', 'a b', 'x\u001e']) expect(spliceFlag('{"content":"c"}', type, TS), type).toBe(0);
    for (const data of ['', '{', '}', '[{}]', '["{}"]', 'null', '"{}"', '{"type":1', '{"a":{"type":1}}}', '{"\\u0074ype":1}']) {
      expect(spliceFlag(data, 'agent_choice', TS), data).toBe(0);
    }
  });
});
