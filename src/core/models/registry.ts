import { z } from 'zod';
import { TowerError } from '../../protocol/errors.js';
import { findCatalogEntry, listedModelNames } from './catalog.js';
import { ModelsConfig, type ModelConfig, type ModelPricing, type ModelsConfigInput, type ProviderConfig, type ProviderType } from './config.js';
import { computeCost } from './cost.js';
import { providersFromEnv, resolveApiKey, type Env } from './env-providers.js';
import { splitModelId } from './model-id.js';
import { createModelFactory, type ModelFactory, type ResolvedLanguageModel } from './providers.js';
import type { ModelInfo, StepUsage } from './types.js';

export interface ModelRegistryOptions {
  config?: ModelsConfigInput;
  /** Defaults to `process.env`. */
  env?: Env;
}

/**
 * The models Tower can call. Any model name under a configured provider is usable (local servers host
 * arbitrary models); `list()` shows the configured ones, or a vendor provider's well-known models.
 */
export interface ModelRegistry {
  /** True when the id's provider is configured. */
  has(id: string): boolean;
  list(): ModelInfo[];
  defaultModel(): string | undefined;
  /** Throws `TowerError('unknown_model')` for an id whose provider is not configured. */
  languageModel(id: string): ResolvedLanguageModel;
  /** Undefined for unknown ids. */
  info(id: string): ModelInfo | undefined;
  providerType(id: string): ProviderType | undefined;
  pricing(id: string): ModelPricing | undefined;
  /** USD; 0 when the price is unknown. */
  cost(id: string, usage: StepUsage): number;
  /** True when at least one provider is configured. */
  isConfigured(): boolean;
  providerNames(): string[];
  /**
   * What Tower needs to build an id's requests itself (`wire/build-request.ts`): its provider's type,
   * base URL and key as the provider was created with them. Undefined for unknown ids, and absent on a
   * registry whose models Tower did not build (the wire path then keeps the provider's own requests).
   */
  wireTarget?(id: string): WireTarget | undefined;
}

/** A model's provider settings, as `createModelFactory` hands them to the AI SDK provider. */
export interface WireTarget {
  type: ProviderType;
  /** The model's name at its provider (the id's part after `provider/`). */
  model: string;
  baseUrl: string | undefined;
  apiKey: string | undefined;
}

/** Validates the config (TowerError `invalid_request` on failure) and merges env providers under it. */
export function createModelRegistry(options: ModelRegistryOptions = {}): ModelRegistry {
  const parsed = ModelsConfig.safeParse(options.config ?? {});
  if (!parsed.success) {
    throw new TowerError('invalid_request', `invalid models config: ${z.prettifyError(parsed.error)}`, parsed.error.issues);
  }
  const config = parsed.data;
  const env = options.env ?? process.env;

  // Config entries win over env ones of the same name; config providers come first in listings.
  const fromEnv = providersFromEnv(env);
  const providers = new Map<string, ProviderConfig>(Object.entries(config.providers));
  for (const [name, provider] of Object.entries(fromEnv)) if (!providers.has(name)) providers.set(name, provider);

  const modelConfigs = new Map<string, ModelConfig>((config.models ?? []).map((m) => [m.id, m]));
  const factories = new Map<string, ModelFactory>();
  const models = new Map<string, ResolvedLanguageModel>();

  const resolve = (id: string) => {
    const parts = splitModelId(id);
    const provider = parts && providers.get(parts.provider);
    return parts && provider ? { ...parts, config: provider } : undefined;
  };

  const info = (id: string): ModelInfo | undefined => {
    const resolved = resolve(id);
    if (!resolved) return undefined;
    const configured = modelConfigs.get(id);
    const catalog = findCatalogEntry(resolved.model);
    const pricing = configured?.pricing ?? catalog?.pricing;
    const contextWindow = configured?.context_window ?? catalog?.context_window;
    return {
      id,
      provider: resolved.provider,
      name: resolved.model,
      ...(pricing ? { pricing: { ...pricing } } : {}),
      ...(contextWindow !== undefined ? { context_window: contextWindow } : {}),
    };
  };

  const listedIds = (): string[] => {
    const ids: string[] = [];
    for (const [name, provider] of providers) {
      const configured = [...modelConfigs.keys()].filter((id) => splitModelId(id)?.provider === name);
      if (configured.length > 0) ids.push(...configured);
      else if (provider.type !== 'openai-compatible') ids.push(...listedModelNames(provider.type).map((m) => `${name}/${m}`));
    }
    return ids;
  };

  const registry: ModelRegistry = {
    has: (id) => resolve(id) !== undefined,
    list: () => listedIds().flatMap((id) => info(id) ?? []),
    defaultModel: () => {
      if (config.default_model !== undefined && registry.has(config.default_model)) return config.default_model;
      return listedIds()[0];
    },
    languageModel: (id) => {
      const cached = models.get(id);
      if (cached) return cached;
      const resolved = resolve(id);
      if (!resolved) throw new TowerError('unknown_model', `unknown model "${id}" (expected provider/model with a configured provider)`);
      let factory = factories.get(resolved.provider);
      if (!factory) {
        factory = createModelFactory(resolved.provider, resolved.config, resolveApiKey(resolved.config, env));
        factories.set(resolved.provider, factory);
      }
      const model = factory(resolved.model);
      models.set(id, model);
      return model;
    },
    info,
    providerType: (id) => resolve(id)?.config.type,
    pricing: (id) => info(id)?.pricing,
    cost: (id, usage) => computeCost(registry.pricing(id), usage),
    isConfigured: () => providers.size > 0,
    providerNames: () => [...providers.keys()],
    wireTarget: (id) => {
      const resolved = resolve(id);
      if (!resolved) return undefined;
      const { config: provider } = resolved;
      return { type: provider.type, model: resolved.model, baseUrl: provider.base_url, apiKey: resolveApiKey(provider, env) };
    },
  };
  return registry;
}
