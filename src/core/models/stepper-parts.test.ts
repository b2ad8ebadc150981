/**
 * The stepper's mapping of LanguageModelV2 stream parts, against an in-memory provider model: exact
 * part sequences the fake HTTP servers cannot produce (a stream without a finish, raw/metadata parts).
 */
import { describe, expect, it } from 'vitest';
import type { ResolvedLanguageModel } from './providers.js';
import type { ModelRegistry } from './registry.js';
import { AiSdkStepper } from './stepper.js';
import { collect } from '../../fake-models/testing/rig.js';

type V2Part = Awaited<ReturnType<ResolvedLanguageModel['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;
type CallOptions = Parameters<ResolvedLanguageModel['doStream']>[0];

const USAGE = { inputTokens: 10, outputTokens: 3, totalTokens: 13 };

function memoryModel(parts: V2Part[], calls: CallOptions[] = []): ResolvedLanguageModel {
  return {
    specificationVersion: 'v2',
    provider: 'memory',
    modelId: 'm',
    supportedUrls: {},
    doGenerate: () => Promise.reject(new Error('not used')),
    doStream: (options) => {
      calls.push(options);
      return Promise.resolve({
        stream: new ReadableStream<V2Part>({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      });
    },
  };
}

function registryOf(model: ResolvedLanguageModel): ModelRegistry {
  return {
    has: () => true,
    list: () => [],
    defaultModel: () => 'mem/m',
    languageModel: () => model,
    info: () => undefined,
    providerType: () => 'openai',
    pricing: () => undefined,
    cost: () => 0,
    isConfigured: () => true,
    providerNames: () => ['mem'],
  };
}

const step = (model: ResolvedLanguageModel, signal = new AbortController().signal) =>
  new AiSdkStepper(registryOf(model)).step({
    model: 'mem/m',
    system: 'sys',
    messages: [{ role: 'user', content: 'hi' }],
    tools: [{ name: 'list', description: 'List', parameters: { type: 'object' } }],
    signal,
  });

describe('AiSdkStepper stream-part mapping', () => {
  it('maps text, reasoning and tool calls, ignores bookkeeping parts, and stops at finish', async () => {
    const parts = await collect(
      step(
        memoryModel([
          { type: 'stream-start', warnings: [] },
          { type: 'response-metadata', id: 'r1', modelId: 'm' },
          { type: 'raw', rawValue: { anything: true } },
          { type: 'reasoning-start', id: 'r' },
          { type: 'reasoning-delta', id: 'r', delta: 'hmm' },
          { type: 'reasoning-end', id: 'r' },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: '' },
          { type: 'text-delta', id: 't', delta: 'Hi' },
          { type: 'text-end', id: 't' },
          { type: 'tool-input-start', id: 'c1', toolName: 'list' },
          { type: 'tool-input-delta', id: 'c1', delta: '{"path":' },
          { type: 'tool-input-delta', id: 'c1', delta: '"."}' },
          { type: 'tool-input-end', id: 'c1' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'list', input: '{"path":"."}' },
          { type: 'tool-call', toolCallId: 'c2', toolName: 'list', input: '' },
          { type: 'tool-call', toolCallId: 'c3', toolName: 'list', input: '{"path": "' },
          { type: 'finish', finishReason: 'tool-calls', usage: { ...USAGE, cachedInputTokens: 4 } },
          { type: 'text-delta', id: 't', delta: 'after finish' },
        ]),
      ),
    );
    expect(parts).toEqual([
      { type: 'reasoning', delta: 'hmm' },
      { type: 'text', delta: 'Hi' },
      { type: 'tool_call', id: 'c1', name: 'list', args: { path: '.' } },
      { type: 'tool_call', id: 'c2', name: 'list', args: {} },
      { type: 'tool_call', id: 'c3', name: 'list', args: '{"path": "' },
      { type: 'finish', finish_reason: 'tool-calls', usage: { input_tokens: 10, output_tokens: 3, cached_input_tokens: 4 } },
    ]);
  });

  it('ends with an error part at a mid-stream error, and with finish "unknown" when the stream just closes', async () => {
    const failed = await collect(
      step(memoryModel([{ type: 'text-delta', id: 't', delta: 'a' }, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }])),
    );
    expect(failed).toEqual([
      { type: 'text', delta: 'a' },
      { type: 'error', code: 'model_error', message: 'Overloaded' },
    ]);
    const cut = await collect(step(memoryModel([{ type: 'text-delta', id: 't', delta: 'a' }])));
    expect(cut).toEqual([
      { type: 'text', delta: 'a' },
      { type: 'finish', finish_reason: 'unknown', usage: { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0 } },
    ]);
  });

  it('hands the provider a V2 prompt with the system prompt, function tools and auto tool choice', async () => {
    const calls: CallOptions[] = [];
    await collect(step(memoryModel([{ type: 'finish', finishReason: 'stop', usage: USAGE }], calls)));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.prompt).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ]);
    expect(calls[0]?.tools).toEqual([{ type: 'function', name: 'list', description: 'List', inputSchema: { type: 'object' } }]);
    expect(calls[0]?.toolChoice).toEqual({ type: 'auto' });
    expect(calls[0]?.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('ends at once, without a terminal part, when aborted while the provider has not answered', async () => {
    const controller = new AbortController();
    const hanging: ResolvedLanguageModel = { ...memoryModel([]), doStream: () => new Promise(() => {}) };
    const iterate = collect(step(hanging, controller.signal));
    controller.abort();
    expect(await iterate).toEqual([]);
  });
});
