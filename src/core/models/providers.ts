import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { TowerError } from '../../protocol/errors.js';
import type { ProviderConfig } from './config.js';
import { capturingFetch } from './wire/capture.js';

/** A concrete AI SDK model object (the `LanguageModel` union also allows a gateway id string). */
export type ResolvedLanguageModel = Exclude<LanguageModel, string>;

export type ModelFactory = (modelName: string) => ResolvedLanguageModel;

/**
 * Builds the AI SDK provider for one configured provider. The key is always passed explicitly — an empty
 * string when there is none — so the SDK never falls back to reading `process.env` behind the
 * registry's back (a missing key then shows up as the vendor's 401). `capturingFetch` lets the lean
 * stepper (`wire/`) take the request a provider builds and send it itself; every other call goes to
 * `globalThis.fetch` as without it.
 */
export function createModelFactory(name: string, config: ProviderConfig, apiKey: string | undefined): ModelFactory {
  switch (config.type) {
    case 'openai': {
      const provider = createOpenAI({ apiKey: apiKey ?? '', fetch: capturingFetch, ...(config.base_url ? { baseURL: config.base_url } : {}) });
      // Chat Completions rather than the Responses API: it is what OpenAI-compatible servers implement.
      return (model) => provider.chat(model);
    }
    case 'anthropic': {
      const provider = createAnthropic({ apiKey: apiKey ?? '', fetch: capturingFetch, ...(config.base_url ? { baseURL: config.base_url } : {}) });
      return (model) => provider.languageModel(model);
    }
    case 'openai-compatible': {
      if (!config.base_url) throw new TowerError('invalid_request', `provider "${name}" (openai-compatible) needs base_url`);
      const provider = createOpenAICompatible({
        name,
        baseURL: config.base_url,
        ...(apiKey ? { apiKey } : {}),
        // Without this the provider does not ask for usage in streams and every step would cost 0 tokens.
        includeUsage: true,
        fetch: capturingFetch,
      });
      return (model) => provider.chatModel(model);
    }
  }
}
