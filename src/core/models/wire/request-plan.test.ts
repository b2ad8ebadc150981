/**
 * When the wire path sends Tower's own requests: after the model's first request, built by the provider
 * and captured, was reproduced exactly; never for a model whose first request Tower does not reproduce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BASH_TOOL, LIST_TOOL, PROVIDER_CASES, collect, startRig, type Rig } from '../../../fake-models/testing/rig.js';
import type { ModelRegistry } from '../registry.js';
import type { ResolvedLanguageModel } from '../providers.js';
import type { StepRequest } from '../types.js';
import { requestPlan } from './request-plan.js';
import { WireStepper } from './wire-stepper.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.server.close();
  rig = undefined;
});

/** `registry` with its models' `doStream` calls counted (the provider building a request). */
function counting(registry: ModelRegistry, change: Partial<ModelRegistry> = {}): { registry: ModelRegistry; calls: () => number } {
  let calls = 0;
  const models = new Map<string, ResolvedLanguageModel>();
  const wrapped: ModelRegistry = {
    ...registry,
    languageModel: (id) => {
      let model = models.get(id);
      if (model === undefined) {
        const inner = registry.languageModel(id);
        model = {
          ...inner,
          doGenerate: (options) => inner.doGenerate(options),
          doStream: (options) => {
            calls++;
            return inner.doStream(options);
          },
        } as ResolvedLanguageModel;
        models.set(id, model);
      }
      return model;
    },
    ...change,
  };
  return { registry: wrapped, calls: () => calls };
}

const request = (model: string, text: string): StepRequest => ({
  model,
  system: 'Be brief.',
  messages: [{ role: 'user', content: text }],
  tools: [LIST_TOOL, BASH_TOOL],
  signal: new AbortController().signal,
});

describe.each(PROVIDER_CASES)('request plan via $providerType', ({ providerType, format }) => {
  it('the first step is the provider’s request; once reproduced, later steps are Tower’s and the server sees the same', async () => {
    rig = await startRig(providerType, format, Array.from({ length: 4 }, () => ({ text: 'ok' })));
    const { registry, calls } = counting(rig.registry);
    const stepper = new WireStepper(registry);
    expect(requestPlan(registry, rig.model, undefined).kind).toBe('unchecked');
    await collect(stepper.step(request(rig.model, 'one')));
    expect(calls()).toBe(1);
    expect(requestPlan(registry, rig.model, undefined).kind).toBe('tower');
    // Three steps at once: none goes through the provider.
    await Promise.all(['two', 'three', 'four'].map((text) => collect(stepper.step(request(rig!.model, text)))));
    expect(calls()).toBe(1);
    expect(rig.server.requests).toHaveLength(4);
    // Same headers on every request (the first one was the provider's), bodies differing only in the text.
    const [first, ...rest] = rig.server.headers;
    for (const headers of rest) {
      for (const name of ['authorization', 'x-api-key', 'anthropic-version', 'content-type', 'user-agent', 'content-length']) {
        if (name !== 'content-length') expect(headers[name]).toBe(first?.[name]);
      }
    }
    const texts = rig.server.requests.map((body) => JSON.stringify(body).replace(/"(one|two|three|four)"/, '"X"'));
    expect(new Set(texts).size).toBe(1);
  });

  it('steps that start while the first one is checked wait for it, and only the first goes through the provider', async () => {
    rig = await startRig(providerType, format, Array.from({ length: 5 }, () => ({ text: 'ok' })));
    const { registry, calls } = counting(rig.registry);
    const stepper = new WireStepper(registry);
    const parts = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((text) => collect(stepper.step(request(rig!.model, text)))));
    expect(parts.every((p) => p.at(-1)?.type === 'finish')).toBe(true);
    expect(calls()).toBe(1);
    expect(rig.server.requests).toHaveLength(5);
  });

  it('a model whose first request Tower does not reproduce stays on the provider’s requests', async () => {
    rig = await startRig(providerType, format, Array.from({ length: 3 }, () => ({ text: 'ok' })));
    const real = rig.registry;
    // Tower is told another key than the provider was created with: its headers differ from the provider's.
    const { registry, calls } = counting(real, { wireTarget: (id) => ({ ...real.wireTarget!(id)!, apiKey: 'some-other-key' }) });
    const stepper = new WireStepper(registry);
    for (const text of ['one', 'two', 'three']) await collect(stepper.step(request(rig.model, text)));
    expect(requestPlan(registry, rig.model, undefined).kind).toBe('provider');
    expect(calls()).toBe(3);
    for (const headers of rig.server.headers) expect(headers[format === 'anthropic' ? 'x-api-key' : 'authorization']).toContain('test-key');
  });

  it('a registry without wire targets keeps the provider’s requests', async () => {
    rig = await startRig(providerType, format, [{ text: 'ok' }, { text: 'ok' }]);
    const { registry, calls } = counting(rig.registry, { wireTarget: undefined });
    const stepper = new WireStepper(registry);
    for (const text of ['one', 'two']) await collect(stepper.step(request(rig.model, text)));
    expect(calls()).toBe(2);
  });

  it('turns with a token cap and titles without one are planned apart', async () => {
    rig = await startRig(providerType, format, Array.from({ length: 4 }, () => ({ text: 'ok' })));
    const { registry, calls } = counting(rig.registry);
    const capped = new WireStepper(registry, { maxOutputTokens: 321 });
    const free = new WireStepper(registry);
    for (const stepper of [capped, free, capped, free]) await collect(stepper.step(request(rig.model, 'x')));
    expect(calls()).toBe(2);
    const bodies = rig.server.requests as Array<Record<string, unknown>>;
    const cap = (body: Record<string, unknown> | undefined) => body?.max_tokens ?? body?.max_completion_tokens;
    expect(cap(bodies[0])).toBe(321);
    expect(cap(bodies[2])).toBe(321);
    expect(cap(bodies[3])).toEqual(cap(bodies[1]));
  });
});
