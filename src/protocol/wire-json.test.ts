import { describe, expect, it } from 'vitest';
import { storedEventOf, type EventType } from './events.js';
import { liveWireJson, notSpliceable, parseRawEvent, rawWireJson, wireJson, type RawStoredEvent } from './wire-json.js';

const raw = (data: unknown, type: EventType = 'agent_choice'): RawStoredEvent => ({
  session_id: 'sess-"1"',
  seq: 42,
  type,
  data: JSON.stringify(data),
  timestamp: '2026-01-02T03:04:05.678Z',
});

describe('rawWireJson', () => {
  const payloads: unknown[] = [
    { content: 'hello' },
    {},
    { content: 'ünï \u0000 "q" \\ \n \u2028 \ud83d\ude00 lone \udc00' },
    { '2': 'b', '1': 'a', z: [1, -0, 1e21, 5e-324, null, { x: true }] },
    // Payloads the splice cannot reproduce: an envelope key (toWire overrides it in place), a string that
    // looks like one, __proto__ (Object.assign sets the prototype instead of copying it).
    { content: 'x', type: 'not-the-type', seq: 'nope' },
    { content: '"seq"' },
    JSON.parse('{"__proto__": {"polluted": 1}, "content": "p"}') as unknown,
    { timestamp: 'payload timestamp', session_id: 'payload session' },
  ];

  it.each(payloads.map((p) => [JSON.stringify(p), p]))('is byte-identical to the object path for %s', (_label, payload) => {
    const r = raw(payload);
    expect(rawWireJson(r)).toBe(wireJson(parseRawEvent(r)));
  });

  it('puts the envelope after the payload keys, as toWire does', () => {
    expect(rawWireJson(raw({ content: 'c' }, 'agent_choice_reasoning'))).toBe(
      '{"content":"c","type":"agent_choice_reasoning","seq":42,"session_id":"sess-\\"1\\"","timestamp":"2026-01-02T03:04:05.678Z"}',
    );
    expect(rawWireJson(raw({}, 'stream_started'))).toBe(
      '{"type":"stream_started","seq":42,"session_id":"sess-\\"1\\"","timestamp":"2026-01-02T03:04:05.678Z"}',
    );
  });

  it('parses a row into the typed event', () => {
    expect(parseRawEvent(raw({ content: 'c' }))).toEqual({
      session_id: 'sess-"1"',
      seq: 42,
      type: 'agent_choice',
      data: { content: 'c' },
      timestamp: '2026-01-02T03:04:05.678Z',
    });
  });
});

describe('notSpliceable', () => {
  const text = (...payloads: unknown[]): string => payloads.map((p) => JSON.stringify(p)).join('');

  it('passes envelope names below the top level or inside strings, in one payload or a page of them', () => {
    expect(notSpliceable(text({ content: 'plain' }))).toBe(false);
    expect(notSpliceable(text({ content: [{ type: 'text', text: 'hi' }] }, { nested: { seq: 1, session_id: 's', timestamp: 't' } }))).toBe(false);
    expect(notSpliceable(text({ content: '"type":"x"', keys: ['"seq"', '\\"', '\\'] }, { tools: [[{ type: 'object' }]] }))).toBe(false);
    expect(notSpliceable(text({ 'a"type"b': { type: 1 }, 'ends in \\': { __proto__type: 1 } }))).toBe(false);
    expect(notSpliceable(text(JSON.parse('{"deep": {"__proto__": {"x": 1}}}')))).toBe(false);
  });

  it('catches a top-level envelope name or __proto__ in any payload of a page, escaped or not', () => {
    for (const key of ['type', 'seq', 'session_id', 'timestamp', '__proto__']) {
      expect(notSpliceable(`{"content":"c"}{"nested":{"a":1},"${key}":2}`), key).toBe(true);
    }
    expect(notSpliceable('{"content":"\\"seq\\"","\\u0074ype":1}')).toBe(true);
    expect(notSpliceable('{"content":"x\\\\","seq":1}')).toBe(true);
  });

  it('sends text that does not balance the object way', () => {
    expect(notSpliceable('{"type":1')).toBe(true);
    expect(notSpliceable('{"a":{"type":1}}}')).toBe(true);
    expect(notSpliceable('{"a":"type" ')).toBe(true);
  });
});

describe('liveWireJson (a live event with its payload text as appended)', () => {
  const SESSION = 'sess-"1" ü';
  const live = (data: unknown, type: EventType = 'agent_choice') =>
    storedEventOf(SESSION, 42, type, data, '2026-01-02T03:04:05.678Z');
  class Part {
    constructor(readonly text: string) {}
    get shown(): string {
      return this.text;
    }
  }
  const payloads: Array<[string, () => unknown]> = [
    ['plain', () => ({ content: 'hello' })],
    ['empty', () => ({})],
    ['unicode, escapes, lone surrogates', () => ({ content: 'ünï \u0000 "q" \\ \n \u2028 \ud83d\ude00 lone \udc00 \ud800' })],
    ['integer-like keys first', () => ({ z: 1, '2': 'b', '1': 'a', n: [1, -0, 1e21, 5e-324, null, { x: true }] })],
    ['nested envelope names', () => ({ content: [{ type: 'text', seq: 1, session_id: 's', timestamp: 't', text: 'hi' }] })],
    ['envelope names in strings', () => ({ content: '"type":"x","seq":1', keys: ['"session_id"', '\\"'] })],
    ['nested __proto__ (JSON.parse keeps it as a key)', () => JSON.parse('{"deep": {"__proto__": {"x": 1}}, "content": "p"}')],
    ['nested toJSON (a Date)', () => ({ at: new Date(0), content: 'd' })],
    ['undefined and function values', () => ({ a: undefined, f: () => 1, content: 'u' })],
    ['a class instance (own fields only)', () => new Part('t')],
    // The object way below: the splice would differ, so it must not be taken.
    ['top-level envelope names', () => ({ content: 'x', type: 'not-the-type', seq: 'nope' })],
    ['a top-level timestamp and session_id', () => ({ timestamp: 'payload timestamp', session_id: 'payload session' })],
    ['a top-level type left out by JSON', () => ({ type: undefined, content: 'x' })],
    ['a top-level seq that is a function', () => ({ seq: () => 1, content: 'x' })],
    ['own top-level __proto__', () => JSON.parse('{"__proto__": {"polluted": 1}, "content": "p"}')],
    [
      'own top-level __proto__ left out by JSON',
      () => Object.defineProperty({ content: 'p' }, '__proto__', { value: { toJSON: () => undefined }, enumerable: true }),
    ],
    ['own top-level toJSON', () => ({ content: 'x', toJSON: () => ({ other: 1 }) })],
    ['a null payload', () => null],
    ['an array payload', () => ['a', 'b']],
  ];

  it.each(payloads)('is byte-identical to wireJson for %s', (_label, make) => {
    const data = make();
    const event = live(data);
    expect(liveWireJson(event, JSON.stringify(data), JSON.stringify(SESSION))).toBe(wireJson(event));
    expect(liveWireJson(event, undefined, JSON.stringify(SESSION))).toBe(wireJson(event));
  });

  it('splices the text it is given instead of serialising the payload (the payload as appended)', () => {
    const data = { content: 'changed after the append' };
    const event = live(data, 'agent_choice_reasoning');
    expect(liveWireJson(event, '{"content":"as stored"}', JSON.stringify(SESSION))).toBe(
      '{"content":"as stored","type":"agent_choice_reasoning","seq":42,"session_id":"sess-\\"1\\" ü","timestamp":"2026-01-02T03:04:05.678Z"}',
    );
    expect(liveWireJson(live({}), '{}', JSON.stringify(SESSION))).toBe(wireJson(live({})));
  });

  it('matches the catch-up splice of the same stored row', () => {
    for (const [, make] of payloads) {
      const data = make();
      if (data === null || typeof data !== 'object' || Array.isArray(data)) continue;
      const text = JSON.stringify(data);
      const r: RawStoredEvent = { session_id: SESSION, seq: 42, type: 'agent_choice', data: text, timestamp: '2026-01-02T03:04:05.678Z' };
      // A row replays as its parsed text; live, the object path and the splice must both agree with it.
      expect(liveWireJson(live(JSON.parse(text)), text, JSON.stringify(SESSION))).toBe(rawWireJson(r));
    }
  });
});
