import { describe, expect, it } from 'vitest';
import { TowerError } from '../../protocol/errors.js';
import { findCatalogEntry } from './catalog.js';
import { mergeModelsConfig, type ModelsConfigInput } from './config.js';
import { demoProvidersConfig } from './demo.js';
import { providersFromEnv } from './env-providers.js';
import { splitModelId } from './model-id.js';
import { createModelRegistry } from './registry.js';

describe('providersFromEnv', () => {
  it('reads every supported variable', () => {
    expect(
      providersFromEnv({
        OPENAI_API_KEY: 'sk-1',
        OPENAI_BASE_URL: 'https://proxy.example/v1',
        ANTHROPIC_API_KEY: 'sk-ant',
        OLLAMA_BASE_URL: 'http://localhost:11434/',
        OPENAI_COMPATIBLE_BASE_URL: 'http://localhost:8000/v1',
        OPENAI_COMPATIBLE_API_KEY: 'vllm-key',
        OPENAI_COMPATIBLE_NAME: 'vllm',
      }),
    ).toEqual({
      openai: { type: 'openai', api_key: 'sk-1', base_url: 'https://proxy.example/v1' },
      anthropic: { type: 'anthropic', api_key: 'sk-ant' },
      ollama: { type: 'openai-compatible', base_url: 'http://localhost:11434/v1' },
      vllm: { type: 'openai-compatible', base_url: 'http://localhost:8000/v1', api_key: 'vllm-key' },
    });
  });

  it('ignores blank values and names the generic provider "local" by default', () => {
    expect(providersFromEnv({ OPENAI_API_KEY: ' ', OPENAI_COMPATIBLE_BASE_URL: 'http://h:1/v1' })).toEqual({
      local: { type: 'openai-compatible', base_url: 'http://h:1/v1' },
    });
    expect(providersFromEnv({})).toEqual({});
  });
});

describe('createModelRegistry', () => {
  it('is unconfigured without providers', () => {
    const registry = createModelRegistry({ config: {}, env: {} });
    expect(registry.isConfigured()).toBe(false);
    expect(registry.list()).toEqual([]);
    expect(registry.defaultModel()).toBeUndefined();
  });

  it('lists well-known models of env vendor providers, with prices', () => {
    const registry = createModelRegistry({ env: { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' } });
    expect(registry.isConfigured()).toBe(true);
    const ids = registry.list().map((m) => m.id);
    expect(ids).toContain('openai/gpt-4o');
    expect(ids).toContain('anthropic/claude-sonnet-4-0');
    expect(registry.defaultModel()).toBe('openai/gpt-4.1');
    expect(registry.info('openai/gpt-4o-mini')).toEqual({
      id: 'openai/gpt-4o-mini',
      provider: 'openai',
      name: 'gpt-4o-mini',
      pricing: { input: 0.15, output: 0.6, cached_input: 0.075 },
      context_window: 128_000,
    });
  });

  it('lets config entries win over env ones', () => {
    const registry = createModelRegistry({
      env: { OPENAI_API_KEY: 'env-key', OLLAMA_BASE_URL: 'http://localhost:11434' },
      config: {
        providers: { ollama: { type: 'openai-compatible', base_url: 'http://gpu-box:11434/v1' } },
        models: [{ id: 'ollama/library/llama3', context_window: 8192 }],
        default_model: 'ollama/library/llama3',
      },
    });
    expect(registry.providerNames()).toEqual(['ollama', 'openai']);
    expect(registry.defaultModel()).toBe('ollama/library/llama3');
    expect(registry.list()[0]).toEqual({ id: 'ollama/library/llama3', provider: 'ollama', name: 'library/llama3', context_window: 8192 });
  });

  it('splits ids at the first slash', () => {
    expect(splitModelId('ollama/library/llama3')).toEqual({ provider: 'ollama', model: 'library/llama3' });
    expect(splitModelId('openrouter/openai/gpt-4o')).toEqual({ provider: 'openrouter', model: 'openai/gpt-4o' });
    expect(splitModelId('noslash')).toBeUndefined();
    expect(splitModelId('/m')).toBeUndefined();
    expect(splitModelId('p/')).toBeUndefined();
    const registry = createModelRegistry({ env: { OLLAMA_BASE_URL: 'http://localhost:11434' } });
    expect(registry.has('ollama/library/llama3')).toBe(true);
    const model = registry.languageModel('ollama/library/llama3');
    expect(model.modelId).toBe('library/llama3');
  });

  it('throws unknown_model for unknown providers and malformed ids', () => {
    const registry = createModelRegistry({ env: { OPENAI_API_KEY: 'k' } });
    for (const id of ['anthropic/claude-sonnet-4-0', 'gpt-4o', '']) {
      expect(registry.has(id)).toBe(false);
      expect(() => registry.languageModel(id)).toThrow(TowerError);
      try {
        registry.languageModel(id);
      } catch (error) {
        expect((error as TowerError).code).toBe('unknown_model');
      }
    }
  });

  it('uses the Chat Completions API for the openai provider', () => {
    const registry = createModelRegistry({ env: { OPENAI_API_KEY: 'k' } });
    expect(registry.languageModel('openai/gpt-4o').provider).toBe('openai.chat');
  });

  it('rejects an invalid config with invalid_request', () => {
    const bad = () => createModelRegistry({ env: {}, config: { providers: { x: { type: 'openai-compatible' } } } });
    expect(bad).toThrow(/base_url/);
    try {
      bad();
    } catch (error) {
      expect((error as TowerError).code).toBe('invalid_request');
    }
    expect(() => createModelRegistry({ env: {}, config: { providers: { 'a/b': { type: 'openai' } } } })).toThrow(TowerError);
  });

  it('computes cost from config prices, then catalog prices, else 0', () => {
    const registry = createModelRegistry({
      env: { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k', OLLAMA_BASE_URL: 'http://x:1' },
      config: { models: [{ id: 'openai/gpt-4o', pricing: { input: 1, output: 2, cached_input: 0.5 } }] },
    });
    const usage = { input_tokens: 1_000_000, output_tokens: 500_000, cached_input_tokens: 400_000 };
    // 600k uncached × 1 + 400k cached × 0.5 + 500k × 2, per million.
    expect(registry.cost('openai/gpt-4o', usage)).toBeCloseTo(0.6 + 0.2 + 1, 10);
    // Catalog: claude-sonnet-4 at 3 / 15 / 0.3, found through its dated id.
    expect(registry.cost('anthropic/claude-sonnet-4-20250514', usage)).toBeCloseTo(0.6 * 3 + 0.4 * 0.3 + 0.5 * 15, 10);
    expect(registry.cost('ollama/llama3', usage)).toBe(0);
    expect(registry.pricing('ollama/llama3')).toBeUndefined();
    expect(registry.cost('nope/x', usage)).toBe(0);
  });

  it('bills cached tokens at the input price when a model has no cache price', () => {
    const registry = createModelRegistry({
      env: {},
      config: {
        providers: { p: { type: 'openai-compatible', base_url: 'http://h:1/v1' } },
        models: [{ id: 'p/m', pricing: { input: 2, output: 4 } }],
      },
    });
    expect(registry.cost('p/m', { input_tokens: 1000, output_tokens: 1000, cached_input_tokens: 500 })).toBeCloseTo(0.006, 12);
  });

  it('finds catalog entries through snapshot suffixes and gateway prefixes', () => {
    expect(findCatalogEntry('gpt-4o-2024-08-06')?.name).toBe('gpt-4o');
    expect(findCatalogEntry('gpt-4o-mini')?.name).toBe('gpt-4o-mini');
    expect(findCatalogEntry('openai/gpt-4.1-mini')?.name).toBe('gpt-4.1-mini');
    expect(findCatalogEntry('claude-3-5-haiku-latest')?.name).toBe('claude-3-5-haiku');
    expect(findCatalogEntry('claude-opus-4-0')?.name).toBe('claude-opus-4');
    expect(findCatalogEntry('llama3')).toBeUndefined();
  });

  it('merges the demo config over a user config', () => {
    const merged = mergeModelsConfig(
      { providers: { openai: { type: 'openai', api_key: 'k' } }, default_model: 'openai/gpt-4o' },
      demoProvidersConfig('http://127.0.0.1:9999/v1'),
    );
    const registry = createModelRegistry({ config: merged, env: {} });
    expect(registry.defaultModel()).toBe('demo/scripted');
    expect(registry.info('demo/scripted')?.pricing).toEqual({ input: 0, output: 0, cached_input: 0 });
    expect(registry.has('openai/gpt-4o')).toBe(true);
    expect(registry.providerType('demo/scripted')).toBe('openai-compatible');
  });
});

describe('models config in the full config file', () => {
  it('ignores the keys of the rest of the file', () => {
    const file: ModelsConfigInput & Record<string, unknown> = {
      host: '0.0.0.0',
      port: 1,
      providers: { p: { type: 'openai-compatible', base_url: 'http://h:1/v1' } },
    };
    expect(createModelRegistry({ config: file, env: {} }).has('p/m')).toBe(true);
  });
});
