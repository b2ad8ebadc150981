/**
 * The two wire decoders fed event by event: shapes real servers send that the fake servers do not
 * (OpenAI-compatible quirks, Anthropic errors before the message, unknown events), checked exactly.
 */
import { describe, expect, it } from 'vitest';
import type { StepPart } from '../types.js';
import { AnthropicMessagesDecoder } from './anthropic-messages.js';
import type { WireDecoder } from './decoder.js';
import { OpenAIChatDecoder } from './openai-chat.js';

/** Feeds events until one ends the step, then (if none did) the end of the body. */
function decode(decoder: WireDecoder, events: Array<unknown>): StepPart[] {
  const parts: StepPart[] = [];
  const emit = (part: StepPart) => parts.push(part);
  for (const event of events) {
    const [type, data] = Array.isArray(event) ? (event as [string, unknown]) : [undefined, event];
    if (decoder.event(type, typeof data === 'string' ? data : JSON.stringify(data), emit)) return parts;
  }
  decoder.end(emit);
  return parts;
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ choices: [{ index: 0, delta, finish_reason: null }], ...extra });
const ZERO = { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0 };

describe('OpenAIChatDecoder', () => {
  it('assembles tool calls from deltas with and without index, in index order, after the text', () => {
    const parts = decode(new OpenAIChatDecoder('openai'), [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hi' }),
      chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'bash', arguments: '{"command"' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'list', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: ':"ls"}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":"."}' } }] }),
      { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
      { choices: [], usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, prompt_tokens_details: { cached_tokens: 5 } } },
      '[DONE]',
    ]);
    expect(parts).toEqual([
      { type: 'text', delta: 'Hi' },
      { type: 'tool_call', id: 'a', name: 'list', args: { path: '.' } },
      { type: 'tool_call', id: 'b', name: 'bash', args: { command: 'ls' } },
      { type: 'finish', finish_reason: 'tool-calls', usage: { input_tokens: 9, output_tokens: 4, cached_input_tokens: 5 } },
    ]);
  });

  it('starts a new call when a server reuses index 0 with another id, and generates missing or repeated ids', () => {
    const parts = decode(new OpenAIChatDecoder('openai-compatible'), [
      chunk({ tool_calls: [{ index: 0, id: 'x', function: { name: 'list', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'y', function: { name: 'bash', arguments: '{"command":"pwd"}' } }] }),
      chunk({ tool_calls: [{ function: { name: 'list', arguments: '{"path":"a"}' } }, { id: 'x', function: { name: 'list', arguments: '{}' } }] }),
    ]);
    const calls = parts.filter((p) => p.type === 'tool_call');
    expect(calls.map((c) => c.type === 'tool_call' && [c.name, c.args])).toEqual([
      ['list', {}],
      ['bash', { command: 'pwd' }],
      ['list', { path: 'a' }],
      ['list', {}],
    ]);
    const ids = calls.map((c) => (c.type === 'tool_call' ? c.id : ''));
    expect(ids.slice(0, 2)).toEqual(['x', 'y']);
    expect(new Set(ids).size).toBe(4);
    expect(parts.at(-1)).toEqual({ type: 'finish', finish_reason: 'unknown', usage: ZERO });
  });

  it('continues the only open call on a delta without a name; a first delta without one is an error', () => {
    const continued = decode(new OpenAIChatDecoder('openai'), [
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'list', arguments: '{"pa' } }] }),
      chunk({ tool_calls: [{ index: 3, function: { arguments: 'th":"."}' } }] }),
    ]);
    expect(continued[0]).toEqual({ type: 'tool_call', id: 'a', name: 'list', args: { path: '.' } });
    const broken = decode(new OpenAIChatDecoder('openai'), [chunk({ tool_calls: [{ index: 0, id: 'a', function: { arguments: '{}' } }] })]);
    expect(broken).toEqual([{ type: 'error', code: 'model_error', message: "Expected 'function.name' to be a string." }]);
    const blank = decode(new OpenAIChatDecoder('openai'), [chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: ' ', arguments: '{}' } }] })]);
    expect(blank).toEqual([{ type: 'finish', finish_reason: 'unknown', usage: ZERO }]);
  });

  it('reads reasoning (reasoning_content or reasoning) only for openai-compatible servers, as the AI SDK providers do', () => {
    const events = [chunk({ reasoning_content: 'think' }), chunk({ reasoning: 'ing' }), chunk({ content: 'ok' })];
    expect(decode(new OpenAIChatDecoder('openai-compatible'), events).slice(0, 3)).toEqual([
      { type: 'reasoning', delta: 'think' },
      { type: 'reasoning', delta: 'ing' },
      { type: 'text', delta: 'ok' },
    ]);
    expect(decode(new OpenAIChatDecoder('openai'), events)[0]).toEqual({ type: 'text', delta: 'ok' });
  });

  it('takes usage from a choice when there is no top-level usage (openai-compatible), and caps cached at input', () => {
    const parts = decode(new OpenAIChatDecoder('openai-compatible'), [
      { choices: [{ index: 0, delta: { content: 'a' }, finish_reason: 'length', usage: { prompt_tokens: 3, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 7 } } }] },
    ]);
    expect(parts.at(-1)).toEqual({ type: 'finish', finish_reason: 'length', usage: { input_tokens: 3, output_tokens: 1, cached_input_tokens: 3 } });
  });

  it('ends with an error part at an error chunk, invalid JSON or a non-object', () => {
    const rate = decode(new OpenAIChatDecoder('openai'), [chunk({ content: 'a' }), { error: { message: 'slow down', type: 'rate_limit_exceeded' } }, chunk({ content: 'b' })]);
    expect(rate).toEqual([{ type: 'text', delta: 'a' }, { type: 'error', code: 'rate_limited', message: 'slow down' }]);
    expect(decode(new OpenAIChatDecoder('openai'), ['{"choices": [']).at(-1)).toMatchObject({ type: 'error', code: 'model_error', message: expect.stringContaining('invalid JSON') });
    expect(decode(new OpenAIChatDecoder('openai'), ['42'])).toEqual([{ type: 'error', code: 'model_error', message: expect.stringContaining('unexpected') }]);
  });

  it('ignores chunks without choices or delta (keep-alives, usage-only)', () => {
    expect(decode(new OpenAIChatDecoder('openai'), [{ id: 'x' }, { choices: [{ index: 0 }] }, { choices: 'no' }])).toEqual([
      { type: 'finish', finish_reason: 'unknown', usage: ZERO },
    ]);
  });
});

describe('AnthropicMessagesDecoder', () => {
  const anthropic = () => new AnthropicMessagesDecoder('http://x/v1/messages');
  const start = { type: 'message_start', message: { id: 'm', usage: { input_tokens: 10, cache_read_input_tokens: 90, cache_creation_input_tokens: 5, output_tokens: 1 } } };

  it('maps thinking, text and tool_use blocks, usage with cache reads and writes, and the stop reason', () => {
    const parts = decode(anthropic(), [
      start,
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'xx' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'citations_delta', citation: {} } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 't1', name: 'list', input: {} } },
      { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{"path":' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '"."}' } },
      { type: 'content_block_stop', index: 3 },
      { type: 'content_block_start', index: 4, content_block: { type: 'tool_use', id: 't2', name: 'bash', input: {} } },
      { type: 'content_block_stop', index: 4 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } },
      { type: 'message_stop' },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'after the end' } },
    ]);
    expect(parts).toEqual([
      { type: 'reasoning', delta: 'hmm' },
      { type: 'text', delta: 'Hi' },
      { type: 'tool_call', id: 't1', name: 'list', args: { path: '.' } },
      { type: 'tool_call', id: 't2', name: 'bash', args: {} },
      { type: 'finish', finish_reason: 'tool-calls', usage: { input_tokens: 105, output_tokens: 12, cached_input_tokens: 90 } },
    ]);
  });

  it('maps each stop reason as the provider does', () => {
    const reasons = ['end_turn', 'stop_sequence', 'pause_turn', 'max_tokens', 'refusal', 'compaction', 'something_new'];
    const finishes = reasons.map((stop_reason) => decode(anthropic(), [start, { type: 'message_delta', delta: { stop_reason }, usage: { output_tokens: 1 } }, { type: 'message_stop' }]).at(-1));
    expect(finishes.map((f) => f?.type === 'finish' && f.finish_reason)).toEqual(['stop', 'stop', 'stop', 'length', 'content-filter', 'other', 'unknown']);
  });

  it('an error event mid-message is the step error; before message_start it is the HTTP error the provider throws', () => {
    const mid = decode(anthropic(), [start, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }]);
    expect(mid).toEqual([{ type: 'error', code: 'model_error', message: 'Overloaded' }]);
    const early = decode(anthropic(), [{ type: 'ping' }, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }]);
    expect(early).toEqual([{ type: 'error', code: 'model_http_error', message: 'HTTP 529: Overloaded' }]);
    const rate = decode(anthropic(), [{ type: 'error', error: { type: 'rate_limit_error', message: 'Too many' } }]);
    expect(rate).toEqual([{ type: 'error', code: 'model_http_error', message: 'HTTP 500: Too many' }]);
  });

  it('skips event and block types it does not know, and finishes "unknown" with no usage when the body ends early', () => {
    const parts = decode(anthropic(), [
      start,
      { type: 'brand_new_event', stuff: 1 },
      { type: 'content_block_start', index: 0, content_block: { type: 'server_tool_use', id: 's', name: 'web_search' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"q":1}' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'x' } },
    ]);
    expect(parts).toEqual([
      { type: 'text', delta: 'x' },
      { type: 'finish', finish_reason: 'unknown', usage: ZERO },
    ]);
  });
});
