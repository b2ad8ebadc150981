import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../protocol/conversation.js';
import { MISSING_TOOL_RESULT, toModelMessages } from './messages.js';
import { toToolSet } from './tools.js';

describe('toModelMessages', () => {
  it('converts a plain exchange with tool calls and results', () => {
    const messages: ConversationMessage[] = [
      { role: 'user', content: 'look' },
      {
        role: 'assistant',
        content: 'Looking.',
        reasoning: 'private thoughts',
        tool_calls: [{ id: 'c1', name: 'list', args: { path: '.' } }],
      },
      { role: 'tool', tool_call_id: 'c1', tool_name: 'list', content: 'a\nb', is_error: false },
      { role: 'assistant', content: 'Two files.' },
    ];
    expect(toModelMessages(messages)).toEqual([
      { role: 'user', content: 'look' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'list', input: { path: '.' } },
        ],
      },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'list', output: { type: 'text', value: 'a\nb' } }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Two files.' }] },
    ]);
  });

  it('marks failed results as error-text', () => {
    const out = toModelMessages([
      { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'bash', args: { command: 'x' } }] },
      { role: 'tool', tool_call_id: 'c1', tool_name: 'bash', content: 'boom', is_error: true },
    ]);
    expect(out[1]).toEqual({
      role: 'tool',
      content: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'bash', output: { type: 'error-text', value: 'boom' } }],
    });
    // No empty text part before the call.
    expect(out[0]).toEqual({
      role: 'assistant',
      content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'bash', input: { command: 'x' } }],
    });
  });

  it('fills in results for interrupted calls and drops orphan results', () => {
    const out = toModelMessages([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: 'Running.', partial: true, tool_calls: [{ id: 'c1', name: 'bash', args: {} }] },
      { role: 'tool', tool_call_id: 'ghost', tool_name: 'bash', content: 'orphan', is_error: false },
      { role: 'user', content: 'stop that' },
    ]);
    expect(out.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(out[2]).toMatchObject({ content: [{ toolCallId: 'c1', output: { type: 'error-text', value: MISSING_TOOL_RESULT } }] });
  });

  it('moves a result that a steer separated from its call back next to it', () => {
    const out = toModelMessages([
      { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'list', args: {} }] },
      { role: 'user', content: 'also check tests' },
      { role: 'tool', tool_call_id: 'c1', tool_name: 'list', content: 'ok', is_error: false },
    ]);
    expect(out.map((m) => m.role)).toEqual(['assistant', 'tool', 'user']);
    expect(out[1]).toMatchObject({ content: [{ output: { type: 'text', value: 'ok' } }] });
  });

  it('skips empty assistant messages and wraps non-object args', () => {
    const out = toModelMessages([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', partial: true },
      { role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'x', args: '{broken' }] },
      { role: 'tool', tool_call_id: 'c1', tool_name: 'x', content: 'invalid args', is_error: true },
    ]);
    expect(out.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(out[1]).toMatchObject({ content: [{ type: 'tool-call', input: { input: '{broken' } }] });
  });
});

describe('toToolSet', () => {
  it('offers tools without execute, with their JSON schema', () => {
    const tools = toToolSet([{ name: 'list', description: 'List', parameters: { type: 'object', properties: {} } }]);
    expect(Object.keys(tools)).toEqual(['list']);
    expect(tools.list?.execute).toBeUndefined();
    expect(tools.list?.description).toBe('List');
  });
});
