import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../protocol/conversation.js';
import type { ScriptResponse } from '../../fake-models/types.js';
import { BASH_TOOL, LIST_TOOL, PROVIDER_CASES, STEPPER_KINDS, collect, startRig, type Rig } from '../../fake-models/testing/rig.js';
import type { StepPart } from './types.js';

const texts = (parts: StepPart[]) => parts.flatMap((p) => (p.type === 'text' ? [p.delta] : []));
const calls = (parts: StepPart[]) => parts.filter((p) => p.type === 'tool_call');

describe.each(STEPPER_KINDS)('%s stepper', (kind) => {
  describe.each(PROVIDER_CASES)('via $providerType ($format wire format)', ({ providerType, format }) => {
    let rig: Rig | undefined;
    afterEach(async () => {
      await rig?.server.close();
      rig = undefined;
    });

    const start = async (script: ScriptResponse[]) => {
      rig = await startRig(providerType, format, script, kind);
      return rig;
    };
    const step = (r: Rig, messages: ConversationMessage[], system?: string) =>
      collect(r.stepper.step({ model: r.model, system, messages, tools: [LIST_TOOL, BASH_TOOL], signal: new AbortController().signal }));

    it('streams text as several text parts, in order, then finish', async () => {
      const r = await start([{ text: 'Hello there, how are you today?' }]);
      const parts = await step(r, [{ role: 'user', content: 'hi' }], 'be nice');
      expect(texts(parts)).toEqual(['Hello ', 'there, ', 'how ', 'are ', 'you ', 'today?']);
      expect(parts.at(-1)).toMatchObject({ type: 'finish', finish_reason: 'stop' });
      expect(parts.filter((p) => p.type === 'finish')).toHaveLength(1);
    });

    it('reassembles a tool call whose arguments are split over chunks', async () => {
      const args = { path: 'src/some/deeply/nested/folder', recursive: true };
      const r = await start([{ text: 'Looking.', tool_calls: [{ name: 'list', args }] }]);
      const parts = await step(r, [{ role: 'user', content: 'look' }]);
      expect(calls(parts)).toEqual([{ type: 'tool_call', id: expect.any(String), name: 'list', args }]);
      expect(parts.at(-1)).toMatchObject({ type: 'finish', finish_reason: 'tool-calls' });
    });

    it('reports two tool calls in one step', async () => {
      const r = await start([{ tool_calls: [{ name: 'list', args: { path: '.' } }, { name: 'bash', args: { command: 'echo hi' } }] }]);
      const parts = await step(r, [{ role: 'user', content: 'both' }]);
      const found = calls(parts);
      expect(found.map((c) => c.type === 'tool_call' && [c.name, c.args])).toEqual([
        ['list', { path: '.' }],
        ['bash', { command: 'echo hi' }],
      ]);
      expect(new Set(found.map((c) => c.type === 'tool_call' && c.id)).size).toBe(2);
    });

    it('reports usage, cached input included, in finish', async () => {
      const r = await start([{ text: 'ok', usage: { input_tokens: 120, output_tokens: 7, cached_input_tokens: 100 } }]);
      const parts = await step(r, [{ role: 'user', content: 'count' }]);
      expect(parts.at(-1)).toEqual({
        type: 'finish',
        finish_reason: 'stop',
        usage: { input_tokens: 120, output_tokens: 7, cached_input_tokens: 100 },
      });
    });

    it('sends tool results back with their call ids on the follow-up request', async () => {
      const r = await start([{ tool_calls: [{ name: 'list', args: { path: '.' } }, { name: 'bash', args: { command: 'false' } }] }, { text: 'Done.' }]);
      const first = await step(r, [{ role: 'user', content: 'go' }]);
      const [list, bash] = calls(first).flatMap((c) => (c.type === 'tool_call' ? [c] : []));
      if (!list || !bash) throw new Error('expected two tool calls');
      const history: ConversationMessage[] = [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: '', tool_calls: [list, bash].map(({ id, name, args }) => ({ id, name, args })) },
        { role: 'tool', tool_call_id: list.id, tool_name: 'list', content: 'a.txt\nb.txt', is_error: false },
        { role: 'tool', tool_call_id: bash.id, tool_name: 'bash', content: 'exit code 1', is_error: true },
      ];
      const second = await step(r, history);
      expect(texts(second).join('')).toBe('Done.');

      const follow = r.server.parsed[1];
      expect(follow?.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
      expect(follow?.messages[1]).toMatchObject({
        tool_calls: [
          { id: list.id, name: 'list', args: { path: '.' } },
          { id: bash.id, name: 'bash', args: { command: 'false' } },
        ],
      });
      expect(follow?.messages[2]).toMatchObject({ role: 'tool', tool_call_id: list.id, text: 'a.txt\nb.txt' });
      expect(follow?.messages[3]).toMatchObject({ role: 'tool', tool_call_id: bash.id, text: expect.stringContaining('exit code 1') });
      if (format === 'anthropic') expect(follow?.messages[3]).toMatchObject({ is_error: true });
      // The raw body holds the ids too, in the provider's own field names.
      const raw = JSON.stringify(r.server.requests[1]);
      expect(raw).toContain(list.id);
      expect(raw).toContain(format === 'anthropic' ? '"tool_use_id"' : '"tool_call_id"');
    });

    it('passes malformed arguments and unknown tools through for the executor to reject', async () => {
      const r = await start([{ tool_calls: [{ name: 'list', args: null, raw_args: '{"path": ".' }, { name: 'teleport', args: { to: 'mars' } }] }]);
      const parts = await step(r, [{ role: 'user', content: 'go' }]);
      expect(calls(parts).map((c) => c.type === 'tool_call' && [c.name, c.args])).toEqual([
        ['list', '{"path": ".'],
        ['teleport', { to: 'mars' }],
      ]);
      expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    });

    it('passes the system prompt and offers the tools', async () => {
      const r = await start([{ text: 'ok' }]);
      await step(r, [{ role: 'user', content: 'hi' }], 'You are a test.');
      expect(r.server.parsed[0]?.system).toBe('You are a test.');
      expect(r.server.parsed[0]?.tools.map((t) => t.name)).toEqual(['list', 'bash']);
      expect(r.server.parsed[0]?.tools[0]?.parameters).toMatchObject({ properties: { path: { type: 'string' } } });
    });
  });

  describe('reasoning', () => {
    let rig: Rig | undefined;
    afterEach(async () => rig?.server.close());

    it.each([
      ['anthropic', 'anthropic'],
      ['openai-compatible', 'openai'],
    ] as const)('maps reasoning deltas (%s)', async (providerType, format) => {
      rig = await startRig(providerType, format, [{ reasoning: 'Let me think about it.', text: 'Answer.' }], kind);
      const parts = await collect(
        rig.stepper.step({ model: rig.model, messages: [{ role: 'user', content: 'q' }], tools: [], signal: new AbortController().signal }),
      );
      const reasoning = parts.flatMap((p) => (p.type === 'reasoning' ? [p.delta] : []));
      expect(reasoning.length).toBeGreaterThan(1);
      expect(reasoning.join('')).toBe('Let me think about it.');
      expect(texts(parts).join('')).toBe('Answer.');
      // Reasoning comes before the answer.
      expect(parts.findIndex((p) => p.type === 'reasoning')).toBeLessThan(parts.findIndex((p) => p.type === 'text'));
    });
  });
});
