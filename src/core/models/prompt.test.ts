import { describe, expect, it } from 'vitest';
import { MISSING_TOOL_RESULT } from './messages.js';
import { toV2Prompt, toV2Tools } from './prompt.js';

describe('toV2Prompt', () => {
  it('converts a history with tool calls, results and a missing result to the provider prompt', () => {
    const prompt = toV2Prompt('be brief', [
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          { id: 'c1', name: 'list', args: { path: '.' } },
          { id: 'c2', name: 'bash', args: 'not json' },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', tool_name: 'list', content: 'a.txt', is_error: false },
      { role: 'assistant', content: '' },
      { role: 'user', content: '' },
    ]);
    expect(prompt).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'go' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'list', input: { path: '.' } },
          { type: 'tool-call', toolCallId: 'c2', toolName: 'bash', input: { input: 'not json' } },
        ],
      },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'c1', toolName: 'list', output: { type: 'text', value: 'a.txt' } },
          { type: 'tool-result', toolCallId: 'c2', toolName: 'bash', output: { type: 'error-text', value: MISSING_TOOL_RESULT } },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: '' }] },
    ]);
  });

  it('has no system message without a system prompt', () => {
    expect(toV2Prompt(undefined, [{ role: 'user', content: 'x' }])).toEqual([{ role: 'user', content: [{ type: 'text', text: 'x' }] }]);
  });
});

describe('toV2Tools', () => {
  it('offers nothing (no tool choice either) without tools', () => {
    expect(toV2Tools([])).toEqual({});
  });
});
