import type { ProviderConfig } from './config.js';

export type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * Ollama serves its OpenAI-compatible API under `/v1`, but people write the server's root
 * (`http://localhost:11434`), which is what Ollama's own tools take; accept both.
 */
function ollamaBaseUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

/**
 * Providers implied by the environment:
 * `OPENAI_API_KEY` (+ `OPENAI_BASE_URL`) → `openai`; `ANTHROPIC_API_KEY` (+ `ANTHROPIC_BASE_URL`) →
 * `anthropic`; `OLLAMA_BASE_URL` → `ollama`; `OPENAI_COMPATIBLE_BASE_URL` (+ `OPENAI_COMPATIBLE_API_KEY`,
 * `OPENAI_COMPATIBLE_NAME`, default `local`) → a generic OpenAI-compatible provider.
 */
export function providersFromEnv(env: Env): Record<string, ProviderConfig> {
  const providers: Record<string, ProviderConfig> = {};
  const openaiKey = value(env, 'OPENAI_API_KEY');
  if (openaiKey) {
    providers.openai = { type: 'openai', api_key: openaiKey, base_url: value(env, 'OPENAI_BASE_URL') };
  }
  const anthropicKey = value(env, 'ANTHROPIC_API_KEY');
  if (anthropicKey) {
    providers.anthropic = { type: 'anthropic', api_key: anthropicKey, base_url: value(env, 'ANTHROPIC_BASE_URL') };
  }
  const ollama = value(env, 'OLLAMA_BASE_URL');
  if (ollama) providers.ollama = { type: 'openai-compatible', base_url: ollamaBaseUrl(ollama) };
  const compatible = value(env, 'OPENAI_COMPATIBLE_BASE_URL');
  if (compatible) {
    const named = value(env, 'OPENAI_COMPATIBLE_NAME');
    // A slash would make `name/model` ids ambiguous.
    const name = named !== undefined && !named.includes('/') ? named : 'local';
    providers[name] = {
      type: 'openai-compatible',
      base_url: compatible,
      api_key: value(env, 'OPENAI_COMPATIBLE_API_KEY'),
    };
  }
  for (const provider of Object.values(providers)) {
    if (provider.base_url === undefined) delete provider.base_url;
    if (provider.api_key === undefined) delete provider.api_key;
  }
  return providers;
}

/** The key a provider uses: explicit, then its `api_key_env`, then the vendor's usual variable. */
export function resolveApiKey(provider: ProviderConfig, env: Env): string | undefined {
  if (provider.api_key !== undefined) return provider.api_key;
  if (provider.api_key_env !== undefined) return value(env, provider.api_key_env);
  if (provider.type === 'openai') return value(env, 'OPENAI_API_KEY');
  if (provider.type === 'anthropic') return value(env, 'ANTHROPIC_API_KEY');
  return undefined;
}
