/**
 * The delta fast path: what a template accepts (exactly the events that differ from the learned one by
 * the delta's string literal) and, for both wire formats, that a decoder with templates emits exactly
 * what the full parse emits, event for event, over streams mixing deltas with every other kind of event
 * and with junk that looks like a delta.
 */
import { describe, expect, it, vi } from 'vitest';
import type { StepPart } from '../types.js';
import { AnthropicMessagesDecoder } from './anthropic-messages.js';
import type { JsonRecord } from '../../../protocol/guards.js';
import type { WireDecoder } from './decoder.js';
import { DeltaTemplate } from './delta-template.js';
import { OpenAIChatDecoder } from './openai-chat.js';

const contentOf = (value: JsonRecord): unknown => (value.delta as JsonRecord | undefined)?.content;

function learned(data: string): DeltaTemplate {
  const template = new DeltaTemplate();
  template.learn(data, JSON.parse(data) as JsonRecord, 'content', 'text', contentOf);
  return template;
}

describe('DeltaTemplate', () => {
  const base = '{"id":"x","delta":{"content":"Hi"},"n":null}';

  it('reads an event that differs only in the delta string, escapes included', () => {
    const template = learned(base);
    expect(template.kind).toBe('text');
    expect(template.match('{"id":"x","delta":{"content":"there"},"n":null}')).toBe('there');
    expect(template.match('{"id":"x","delta":{"content":""},"n":null}')).toBe('');
    expect(template.match('{"id":"x","delta":{"content":"a\\"b\\n\\u00e9\\\\"},"n":null}')).toBe('a"b\né\\');
    expect(template.match('{"id":"x","delta":{"content":"日本 \ud83d\ude00"},"n":null}')).toBe('日本 😀');
  });

  it('refuses anything that is not one string literal in the slot, or another prefix or suffix', () => {
    const template = learned(base);
    for (const junk of [
      '{"id":"x","delta":{"content":"a","content":"b"},"n":null}',
      '{"id":"x","delta":{"content":"a"},"x":{"y":"b"},"n":null}',
      '{"id":"x","delta":{"content":"a\\"},"n":null}',
      '{"id":"x","delta":{"content":"a\nb"},"n":null}',
      '{"id":"x","delta":{"content":"\\x"},"n":null}',
      '{"id":"x","delta":{"content":"a" "b"},"n":null}',
      '{"id":"x","delta":{"content":12},"n":null}',
      '{"id":"x","delta":{"content":null},"n":null}',
      '{"id":"x","delta":{"content":""},"n":1}',
      '{"id":"y","delta":{"content":"a"},"n":null}',
      '{"id":"x","delta":{"content":"a"},"n":null} ',
      '{"id":"x","delta":{"content":"',
      '{"id":"x","delta":{"content":"},"n":null}',
      '',
    ]) {
      expect(template.match(junk), junk).toBeUndefined();
    }
  });

  it('learns nothing when the string found is not where the decoder reads the delta', () => {
    // The last "content" key is another object's; the delta's own string is elsewhere.
    const other = new DeltaTemplate();
    const data = '{"delta":{"content":"Hi"},"meta":{"content":"Hi"}}';
    other.learn(data, JSON.parse(data) as JsonRecord, 'content', 'text', contentOf);
    expect(other.match('{"delta":{"content":"Hi"},"meta":{"content":"no"}}')).toBeUndefined();
    // A duplicate key: the decoder reads the last one, the template found... the last one, so it holds.
    const dup = new DeltaTemplate();
    const twice = '{"delta":{"content":"a","content":"b"}}';
    dup.learn(twice, JSON.parse(twice) as JsonRecord, 'content', 'text', contentOf);
    expect(dup.match('{"delta":{"content":"a","content":"c"}}')).toBe('c');
    expect(dup.match('{"delta":{"content":"z","content":"c"}}')).toBeUndefined();
    // A key name inside a string value is not a key.
    const quoted = new DeltaTemplate();
    const inString = '{"delta":{"content":"x"},"note":"\\"content\\":\\"y\\""}';
    quoted.learn(inString, JSON.parse(inString) as JsonRecord, 'content', 'text', contentOf);
    expect(quoted.match('{"delta":{"content":"x"},"note":"\\"content\\":\\"z\\""}')).toBeUndefined();
  });

  it('stops learning when the events never match the templates they teach', () => {
    const template = new DeltaTemplate();
    for (let i = 0; i < 20; i++) {
      const data = `{"pad":"${i}","delta":{"content":"t"}}`;
      template.learn(data, JSON.parse(data) as JsonRecord, 'content', 'text', contentOf);
    }
    // Learning stopped after a few futile templates: the one kept is of an early event.
    const matching = Array.from({ length: 20 }, (_, i) => i).filter((i) => template.match(`{"pad":"${i}","delta":{"content":"u"}}`) === 'u');
    expect(matching).toHaveLength(1);
    expect(matching[0]).toBeLessThan(10);
  });
});

/** Feeds every event to both decoders (one with templates, the reference without) and compares the parts after each. */
function same(make: (fast: boolean) => WireDecoder, events: Array<[string | undefined, string]>): StepPart[] {
  const fast = make(true);
  const reference = make(false);
  const got: StepPart[] = [];
  const want: StepPart[] = [];
  let over = false;
  for (const [type, data] of events) {
    const a = fast.event(type, data, (p) => got.push(p));
    const b = reference.event(type, data, (p) => want.push(p));
    expect(got, data).toEqual(want);
    expect(a, data).toBe(b);
    if ((over = a)) break;
  }
  if (!over) {
    fast.end((p) => got.push(p));
    reference.end((p) => want.push(p));
  }
  expect(got).toEqual(want);
  return got;
}

/** `JSON.parse` calls a decoder makes for `events` (its parts are dropped). */
function parses(decoder: WireDecoder, events: Array<[string | undefined, string]>): number {
  const spy = vi.spyOn(JSON, 'parse');
  try {
    for (const [type, data] of events) decoder.event(type, data, () => {});
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

/** Variants of a delta event's text that must not be read as a delta (or must be read as the full parse reads them). */
function junkAround(data: string, literal: string): string[] {
  const at = data.lastIndexOf(literal);
  const before = data.slice(0, at);
  const after = data.slice(at + literal.length);
  return [
    `${before}"a","x":"b"${after}`,
    `${before}"a\\"${after}`,
    `${before}"a\nb"${after}`,
    `${before}"\\q"${after}`,
    `${before}"\\u00e9\\n\\""${after}`,
    `${before}7${after}`,
    `${before}null${after}`,
    `${before}"cut`,
    `${before}""${after}`,
    `${before}"ok"${after}x`,
    `${before}"a""b"${after}`,
  ];
}

describe('OpenAIChatDecoder with templates = without', () => {
  const chunk = (delta: JsonRecord, finish: string | null = null, extra: JsonRecord = {}): [undefined, string] => [
    undefined,
    JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra }),
  ];
  const text = (s: string) => chunk({ content: s });

  for (const type of ['openai', 'openai-compatible'] as const) {
    it(`${type}: text, reasoning, tool-call deltas, usage and finish`, () => {
      const parts = same((fast) => new OpenAIChatDecoder(type, { deltaTemplate: fast }), [
        chunk({ role: 'assistant', content: '' }),
        chunk({ reasoning_content: 'think' }),
        chunk({ reasoning_content: 'ing' }),
        chunk({ reasoning: 'other key' }),
        chunk({ reasoning: 'again' }),
        text('Hello'),
        text(' wor"ld\n'),
        text(''),
        text('é😀'),
        chunk({ content: 'both', reasoning_content: 'r' }),
        text('after'),
        chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'bash', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"ls"}' } }] }),
        text('late'),
        chunk({ content: 'with usage' }, null, { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
        text('x'),
        chunk({}, 'tool_calls'),
        [undefined, JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } })],
        [undefined, '[DONE]'],
      ]);
      expect(parts.filter((p) => p.type === 'text').map((p) => p.type === 'text' && p.delta)).toEqual(['Hello', ' wor"ld\n', 'é😀', 'both', 'after', 'late', 'with usage', 'x']);
      expect(parts.some((p) => p.type === 'reasoning')).toBe(type === 'openai-compatible');
      expect(parts.at(-1)).toMatchObject({ type: 'finish', finish_reason: 'tool-calls', usage: { input_tokens: 9 } });
    });

    it(`${type}: repeated deltas are read without parsing them`, () => {
      const events = Array.from({ length: 100 }, (_, i) => text(`t${i} `));
      expect(parses(new OpenAIChatDecoder(type, { deltaTemplate: true }), events)).toBeLessThan(10);
    });

    it(`${type}: junk shaped like a delta is what the full parse makes of it`, () => {
      const [, data] = text('tok');
      for (const junk of junkAround(data, '"tok"')) {
        same((fast) => new OpenAIChatDecoder(type, { deltaTemplate: fast }), [text('a'), text('b'), [undefined, junk], text('c')]);
      }
      const [, reasoning] = chunk({ reasoning_content: 'tok' });
      for (const junk of junkAround(reasoning, '"tok"')) {
        same((fast) => new OpenAIChatDecoder(type, { deltaTemplate: fast }), [chunk({ reasoning_content: 'a' }), chunk({ reasoning_content: 'b' }), [undefined, junk]]);
      }
    });

    it(`${type}: an error chunk mid-stream ends the step`, () => {
      const parts = same((fast) => new OpenAIChatDecoder(type, { deltaTemplate: fast }), [
        text('a'),
        text('b'),
        [undefined, JSON.stringify({ error: { message: 'overloaded', type: 'server_error' } })],
        text('never'),
      ]);
      expect(parts.at(-1)).toMatchObject({ type: 'error' });
    });
  }
});

describe('AnthropicMessagesDecoder with templates = without', () => {
  const ev = (value: JsonRecord): [string, string] => [value.type as string, JSON.stringify(value)];
  const text = (index: number, s: string) => ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: s } });
  const thinking = (index: number, s: string) => ev({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: s } });
  const stream = (body: Array<[string, string]>): Array<[string, string]> => [
    ev({ type: 'message_start', message: { id: 'm', usage: { input_tokens: 5, output_tokens: 1 } } }),
    ...body,
    ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }),
    ev({ type: 'message_stop' }),
  ];
  const make = (fast: boolean) => new AnthropicMessagesDecoder('http://x/v1/messages', { deltaTemplate: fast });

  it('thinking, text, tool input, usage and finish', () => {
    const parts = same(
      make,
      stream([
        ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }),
        thinking(0, 'hmm'),
        thinking(0, ' "quoted"'),
        ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
        ev({ type: 'content_block_stop', index: 0 }),
        ev({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
        text(1, 'Hi'),
        text(1, ''),
        text(1, ' there\\'),
        ['ping', '{"type":"ping"}'],
        text(1, '!'),
        ev({ type: 'content_block_stop', index: 1 }),
        ev({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 't', name: 'bash', input: {} } }),
        ev({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"command":' } }),
        ev({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '"ls"}' } }),
        ev({ type: 'content_block_stop', index: 2 }),
        ev({ type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } }),
        text(3, 'next block'),
        text(3, 'more'),
      ]),
    );
    expect(parts.map((p) => p.type)).toEqual(['reasoning', 'reasoning', 'text', 'text', 'text', 'tool_call', 'text', 'text', 'finish']);
  });

  it('repeated deltas are read without parsing them', () => {
    const events = [...Array.from({ length: 50 }, (_, i) => thinking(0, `r${i}`)), ...Array.from({ length: 50 }, (_, i) => text(1, `t${i}`))];
    expect(parses(make(true), events)).toBeLessThan(10);
  });

  it('junk shaped like a delta is what the full parse makes of it', () => {
    const [, data] = text(0, 'tok');
    for (const junk of junkAround(data, '"tok"')) same(make, stream([text(0, 'a'), text(0, 'b'), ['content_block_delta', junk], text(0, 'c')]));
    const [, think] = thinking(0, 'tok');
    for (const junk of junkAround(think, '"tok"')) same(make, stream([thinking(0, 'a'), thinking(0, 'b'), ['content_block_delta', junk]]));
  });

  it('an error event mid-stream ends the step', () => {
    const parts = same(make, [
      ev({ type: 'message_start', message: { usage: {} } }),
      text(0, 'a'),
      text(0, 'b'),
      ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      text(0, 'never'),
    ]);
    expect(parts.at(-1)).toMatchObject({ type: 'error' });
  });
});
