/**
 * Parity: a corpus of step calls goes through the AI SDK provider Tower creates (its `doStream`, captured
 * at its fetch, never sent) and through Tower's builder, and the two requests must be the same: URL,
 * every header (user-agent included: nothing is left out of the comparison) and the body text, byte
 * for byte. Calls the builder does not build must answer `undefined` (the provider's request is sent).
 */
import { describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../../protocol/conversation.js';
import { BASH_TOOL, LIST_TOOL } from '../../../fake-models/testing/rig.js';
import { createModelRegistry, type ModelRegistry } from '../registry.js';
import { stepCallOptions } from '../stepper.js';
import type { StepRequest } from '../types.js';
import { buildWireRequest, requestHead, type RequestHead } from './build-request.js';
import type { WireCall } from './build-parts.js';
import { captureRequest, type WireRequest } from './capture.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;

const registry: ModelRegistry = createModelRegistry({
  config: {
    providers: {
      oa: { type: 'openai', base_url: 'http://127.0.0.1:9/v1/', api_key: 'sk-test-key' },
      oa0: { type: 'openai', base_url: 'https://proxy.example/openai' },
      oc: { type: 'openai-compatible', base_url: 'http://LocalHost:9/v1/', api_key: 'compat-key' },
      oc0: { type: 'openai-compatible', base_url: 'http://127.0.0.1:11434/v1' },
      an: { type: 'anthropic', base_url: 'http://127.0.0.1:9/v1', api_key: 'ant-key' },
      an0: { type: 'anthropic', base_url: 'https://proxy.example/anthropic/' },
    },
  },
  env: {},
});

/** Anthropic's `max_tokens` per model and cap, from the provider's table (`getModelCapabilities`). */
function anthropicMaxTokens(model: string, cap: number | undefined): number {
  const limit = model.startsWith('claude-sonnet-4-5') ? 64_000 : model.startsWith('claude-3-haiku') ? 4096 : 4096;
  const known = model.startsWith('claude-');
  if (cap === undefined) return limit;
  return known && cap > limit ? limit : cap;
}

async function providerRequest(id: string, call: WireCall): Promise<WireRequest> {
  const model = registry.languageModel(id);
  const captured = await captureRequest((abortSignal) => model.doStream({ ...call, abortSignal }), new AbortController().signal);
  if (!('request' in captured)) throw new Error('not captured');
  return captured.request;
}

function towerRequest(id: string, call: WireCall): WireRequest | undefined {
  const target = registry.wireTarget?.(id);
  const head = target && requestHead(target);
  if (!target || !head) throw new Error(`no head for ${id}`);
  const full: RequestHead = target.type === 'anthropic' ? { ...head, maxTokens: { cap: call.maxOutputTokens, value: anthropicMaxTokens(target.model, call.maxOutputTokens) } } : head;
  return buildWireRequest(full, call);
}

const HISTORY: ConversationMessage[] = [
  { role: 'user', content: 'look around' },
  {
    role: 'assistant',
    content: 'Looking.',
    reasoning: 'I should list first.',
    tool_calls: [
      { id: 'c1', name: 'list', args: { path: '.', deep: { a: [1, 2, null], b: 'ü "q"' } } },
      { id: 'c2', name: 'bash', args: { command: 'false' } },
    ],
  },
  { role: 'tool', tool_call_id: 'c1', tool_name: 'list', content: 'a.txt\nb.txt', is_error: false },
  { role: 'tool', tool_call_id: 'c2', tool_name: 'bash', content: 'exit 1', is_error: true },
  { role: 'assistant', content: 'Found a.txt.' },
  { role: 'user', content: 'now what?' },
];

const step = (system: string | undefined, messages: ConversationMessage[], tools = [LIST_TOOL, BASH_TOOL]): Omit<StepRequest, 'model' | 'signal'> => ({
  ...(system !== undefined ? { system } : {}),
  messages,
  tools,
});

/** Step requests as the agent loop and titles make them. */
const STEPS: Array<[string, Omit<StepRequest, 'model' | 'signal'>]> = [
  ['plain text, no tools (a title)', step('Name it.', [{ role: 'user', content: 'Fix the login bug' }], [])],
  ['no system prompt', step(undefined, [{ role: 'user', content: 'hi' }])],
  ['empty system prompt', step('', [{ role: 'user', content: 'hi' }])],
  ['multi-turn', step('Be brief.', [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }])],
  ['tool calls, results and errors', step('Be brief.', HISTORY)],
  [
    'a call without result (interrupted), empty text beside tool calls, non-object arguments',
    step('Be brief.', [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'x1', name: 'bash', args: 'not json' }, { id: 'x2', name: 'list', args: null }], partial: true },
      { role: 'user', content: 'steered in' },
    ]),
  ],
  [
    'tool results then a steered message (one Anthropic user turn)',
    step('S', [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: 'On it.', tool_calls: [{ id: 'y1', name: 'list', args: { path: 'src' } }] },
      { role: 'tool', tool_call_id: 'y1', tool_name: 'list', content: '', is_error: false },
      { role: 'user', content: 'also check tests' },
    ]),
  ],
  ['ends on the assistant (trailing space trimmed for Anthropic)', step('S', [{ role: 'user', content: 'x' }, { role: 'assistant', content: '  partial answer \n' }])],
  ['two assistant messages in a row', step('S', [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'one' }, { role: 'assistant', content: 'two' }, { role: 'user', content: 'y' }])],
  ['unicode and JSON-looking text', step('Ω "quoted" \\ back', [{ role: 'user', content: '{"not":"json"} \u2028 emoji 🚀 \u0000 nul' }])],
  [
    'a tool with an odd schema',
    step('S', [{ role: 'user', content: 'x' }], [{ name: 'odd', description: '', parameters: { type: 'object', properties: {}, additionalProperties: false, $defs: { a: { type: 'string' } } } }]),
  ],
  [
    'two tools sharing one schema object',
    step('S', [{ role: 'user', content: 'x' }], [
      { name: 'a', description: 'first', parameters: LIST_TOOL.parameters },
      { name: 'b', description: 'second "quoted"', parameters: LIST_TOOL.parameters },
      LIST_TOOL,
    ]),
  ],
];

const MODELS: Record<'openai' | 'openai-compatible' | 'anthropic', string[]> = {
  openai: ['oa/gpt-4o', 'oa/gpt-5', 'oa/o3-mini', 'oa/gpt-5-chat-latest', 'oa0/gpt-4.1-mini'],
  'openai-compatible': ['oc/llama3', 'oc0/qwen2.5-coder:7b'],
  anthropic: ['an/claude-sonnet-4-5-20250929', 'an/test-model', 'an0/claude-3-haiku-20240307'],
};

describe.each(Object.entries(MODELS))('Tower builds the requests the %s provider builds', (_type, models) => {
  describe.each(models)('%s', (id) => {
    it.each(STEPS)('%s', async (_name, request) => {
      for (const maxOutputTokens of [undefined, 1000, 100_000]) {
        const call = stepCallOptions({ ...request, model: id, signal: new AbortController().signal }, maxOutputTokens === undefined ? {} : { maxOutputTokens });
        const tower = towerRequest(id, call);
        const provider = await providerRequest(id, call);
        expect(tower).toBeDefined();
        expect(tower?.url).toBe(provider.url);
        expect(tower?.headers).toEqual(provider.headers);
        expect(tower?.body).toBe(provider.body);
      }
    });

    it('V2 parts Tower does not send today, but builds: multi-part user text, reasoning, no tool choice', async () => {
      const call: WireCall = {
        prompt: [
          { role: 'system', content: 'S' },
          { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
          { role: 'assistant', content: [{ type: 'reasoning', text: 'thinking' }, { type: 'text', text: 'answer' }] },
          { role: 'user', content: [{ type: 'text', text: 'three' }] },
        ],
        tools: [{ type: 'function', name: 'list', inputSchema: { type: 'object' } }],
      };
      const provider = await providerRequest(id, call);
      expect(towerRequest(id, call)).toEqual(provider);
    });
  });
});

describe('calls Tower does not build are the provider’s', () => {
  const base: WireCall = { prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
  const cases: Array<[string, WireCall]> = [
    ['temperature', { ...base, temperature: 0.2 }],
    ['stop sequences', { ...base, stopSequences: ['END'] }],
    ['provider options', { ...base, providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens: 1000 } } } }],
    ['call headers', { ...base, headers: { 'x-extra': '1' } }],
    ['a forced tool choice', { ...base, tools: [{ type: 'function', name: 't', inputSchema: { type: 'object' } }], toolChoice: { type: 'required' } }],
    ['an image', { prompt: [{ role: 'user', content: [{ type: 'file', mediaType: 'image/png', data: 'iVBORw0KGgo=' }] }] }],
    ['a part with cache control', { prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi', providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } }] }] }],
    ['a JSON tool result', { prompt: [{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'a', toolName: 't', output: { type: 'json', value: { a: 1 } } }] }] }],
    ['a provider-defined tool', { ...base, tools: [{ type: 'provider-defined', id: 'anthropic.web_search_20250305', name: 'web_search', args: {} }] }],
  ];
  it.each(cases)('%s', (_name, call) => {
    for (const id of ['oa/gpt-4o', 'oc/llama3', 'an/claude-sonnet-4-5-20250929']) expect(towerRequest(id, call)).toBeUndefined();
  });

  it('a header value the provider’s Headers would refuse leaves the whole model to the provider', () => {
    const bad = createModelRegistry({ config: { providers: { p: { type: 'anthropic', api_key: 'line\nbreak' } } }, env: {} });
    const target = bad.wireTarget?.('p/m');
    expect(target).toBeDefined();
    expect(requestHead(target!)).toBeUndefined();
  });
});
