import type { ModelsConfigInput } from './config.js';

export const DEMO_PROVIDER = 'demo';
export const DEMO_MODEL_ID = 'demo/scripted';

/**
 * Models config for `tower serve --demo`: an OpenAI-compatible provider named `demo` pointing at the
 * scripted fake model server (`baseUrl` as returned by it, e.g. `http://127.0.0.1:PORT/v1`), one free
 * model `demo/scripted`, made the default. Merge it over the user's config with `mergeModelsConfig`.
 */
export function demoProvidersConfig(baseUrl: string): ModelsConfigInput {
  return {
    providers: { [DEMO_PROVIDER]: { type: 'openai-compatible', base_url: baseUrl } },
    models: [{ id: DEMO_MODEL_ID, pricing: { input: 0, output: 0, cached_input: 0 }, context_window: 128_000 }],
    default_model: DEMO_MODEL_ID,
  };
}
