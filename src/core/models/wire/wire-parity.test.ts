/**
 * The lean wire path against the AI SDK path it replaces, on the same fake servers: for each provider
 * type and each kind of answer, the request (body and the provider's headers) is the one the AI SDK
 * sends, and the parts are the ones the AI SDK's own parsing yields.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConversationMessage } from '../../../protocol/conversation.js';
import type { ScriptResponse } from '../../../fake-models/types.js';
import { BASH_TOOL, LIST_TOOL, PROVIDER_CASES, collect, startRig, type StepperKind } from '../../../fake-models/testing/rig.js';
import type { StepPart } from '../types.js';
import { TurnBudget } from './turn-budget.js';
import { WireStepper } from './wire-stepper.js';

const HISTORY: ConversationMessage[] = [
  { role: 'user', content: 'look around' },
  { role: 'assistant', content: 'Looking.', tool_calls: [{ id: 'c1', name: 'list', args: { path: '.' } }] },
  { role: 'tool', tool_call_id: 'c1', tool_name: 'list', content: 'a.txt', is_error: false },
  { role: 'assistant', content: 'Found a.txt.' },
  { role: 'user', content: 'now what?' },
];

const SCRIPTS: Array<[string, ScriptResponse]> = [
  ['text', { text: 'Hello there, how are you today?' }],
  ['reasoning then text', { reasoning: 'Let me think about it.', text: 'Answer.' }],
  ['tool calls split over chunks', { text: 'Running.', tool_calls: [{ name: 'list', args: { path: 'src/a/b/c' } }, { name: 'bash', args: { command: 'echo hi' } }] }],
  ['malformed tool arguments', { tool_calls: [{ name: 'list', args: null, raw_args: '{"path": ".' }] }],
  ['usage with cached input', { text: 'ok', usage: { input_tokens: 120, output_tokens: 7, cached_input_tokens: 100 } }],
  ['error event mid-stream', { text: 'partial answer', stream_error: { message: 'Overloaded', type: 'overloaded_error' } }],
  ['HTTP 429', { error: { status: 429, message: 'Rate limit reached' } }],
  ['HTTP 400 context length', { error: { status: 400, message: 'maximum context length is 10 tokens', code: 'context_length_exceeded' } }],
  ['HTTP 500', { error: { status: 500, message: 'upstream exploded' } }],
];

/** Headers the provider sets (the HTTP clients add their own: undici `accept`, `sec-fetch-mode`, …). */
const PROVIDER_HEADERS = ['authorization', 'x-api-key', 'anthropic-version', 'anthropic-beta', 'content-type', 'user-agent', 'content-length'];

async function run(kind: StepperKind, providerType: (typeof PROVIDER_CASES)[number]['providerType'], format: (typeof PROVIDER_CASES)[number]['format'], script: ScriptResponse) {
  const rig = await startRig(providerType, format, [script], kind);
  try {
    const parts = await collect(
      rig.stepper.step({ model: rig.model, system: 'Be brief.', messages: HISTORY, tools: [LIST_TOOL, BASH_TOOL], signal: new AbortController().signal }),
    );
    const sent = rig.server.headers[0] ?? {};
    const headers = Object.fromEntries(PROVIDER_HEADERS.filter((name) => sent[name] !== undefined).map((name) => [name, sent[name]]));
    return { parts, body: rig.server.requests[0], headers, requests: rig.server.requests.length };
  } finally {
    await rig.server.close();
  }
}

describe.each(PROVIDER_CASES)('wire path = AI SDK path via $providerType', ({ providerType, format }) => {
  it.each(SCRIPTS)('%s: same request, same parts', async (_name, script) => {
    const wire = await run('wire', providerType, format, script);
    const sdk = await run('ai-sdk', providerType, format, script);
    expect(wire.body).toEqual(sdk.body);
    expect(wire.headers).toEqual(sdk.headers);
    expect(wire.headers).toHaveProperty(format === 'anthropic' ? 'x-api-key' : 'authorization');
    expect(wire.parts).toEqual(sdk.parts);
    expect(wire.requests).toBe(1); // no retries on either path
    expect(wire.parts.filter((p: StepPart) => p.type === 'finish' || p.type === 'error')).toHaveLength(1);
  });
});

describe('wire path transport', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(PROVIDER_CASES)('sends over node:http, never through fetch ($providerType)', async ({ providerType, format }) => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const wire = await run('wire', providerType, format, { text: 'hi' });
    expect(wire.parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(fetchSpy).not.toHaveBeenCalled();
    await run('ai-sdk', providerType, format, { text: 'hi' });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });
});

describe('wire path under a spent turn budget', () => {
  class CountingBudget extends TurnBudget {
    deferred = 0;
    override defer(work: () => void): void {
      this.deferred++;
      super.defer(work);
    }
  }

  it.each(PROVIDER_CASES)('defers chunks to later turns and keeps every part in order ($providerType)', async ({ providerType, format }) => {
    const script: ScriptResponse = { text: 'one two three four five six seven', tool_calls: [{ name: 'list', args: { path: 'deep/er/still' } }], tokensPerSecond: 1000 };
    const expected = await run('wire', providerType, format, script);
    const rig = await startRig(providerType, format, [script]);
    const budget = new CountingBudget(0);
    try {
      const stepper = new WireStepper(rig.registry, { turnBudget: budget });
      const parts = await collect(
        stepper.step({ model: rig.model, system: 'Be brief.', messages: HISTORY, tools: [LIST_TOOL, BASH_TOOL], signal: new AbortController().signal }),
      );
      expect(parts).toEqual(expected.parts);
      expect(budget.deferred).toBeGreaterThan(0);
      // Work still waiting after the last part (the body's end behind an Anthropic finish) runs soon after.
      await vi.waitFor(() => expect(budget.backlog).toBe(0));
    } finally {
      await rig.server.close();
    }
  });
});
