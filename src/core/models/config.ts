import { z } from 'zod';

/**
 * The `models` part of Tower's configuration: named providers, optional per-model settings and the
 * default model. Keys are snake_case like the rest of the config file.
 */

export const ProviderType = z.enum(['openai', 'anthropic', 'openai-compatible']);
export type ProviderType = z.infer<typeof ProviderType>;

export const ProviderConfig = z
  .object({
    type: ProviderType,
    base_url: z.url().optional(),
    api_key: z.string().optional(),
    /** Name of the environment variable holding the key (read from the registry's `env`). */
    api_key_env: z.string().optional(),
  })
  .strict()
  .refine((p) => p.type !== 'openai-compatible' || p.base_url !== undefined, {
    message: 'an openai-compatible provider needs base_url',
    path: ['base_url'],
  });
export type ProviderConfig = z.infer<typeof ProviderConfig>;

/** USD per million tokens. */
export const ModelPricing = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cached_input: z.number().nonnegative().optional(),
  })
  .strict();
export type ModelPricing = z.infer<typeof ModelPricing>;

export const ModelConfig = z
  .object({
    /** `provider/model`; the model part may itself contain slashes. */
    id: z.string().regex(/^[^/]+\/.+$/, 'expected "provider/model"'),
    pricing: ModelPricing.optional(),
    context_window: z.number().int().positive().optional(),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfig>;

// Not strict: these keys live in Tower's config file beside others (host, port, ...), ignored here.
export const ModelsConfig = z.object({
  providers: z.record(z.string().regex(/^[^/]+$/, 'provider names cannot contain "/"'), ProviderConfig).default({}),
  models: z.array(ModelConfig).optional(),
  default_model: z.string().optional(),
});
export type ModelsConfig = z.infer<typeof ModelsConfig>;
/** What a caller may write: `providers` may be left out. */
export type ModelsConfigInput = z.input<typeof ModelsConfig>;

/**
 * Layers `extra` over `base` (used by `serve --demo`): providers and models of `extra` replace those of
 * the same name, and its default model wins when set.
 */
export function mergeModelsConfig(base: ModelsConfigInput, extra: ModelsConfigInput): ModelsConfigInput {
  const extraModels = extra.models ?? [];
  const extraIds = new Set(extraModels.map((m) => m.id));
  const models = [...(base.models ?? []).filter((m) => !extraIds.has(m.id)), ...extraModels];
  const merged: ModelsConfigInput = { providers: { ...base.providers, ...extra.providers } };
  if (models.length > 0) merged.models = models;
  const defaultModel = extra.default_model ?? base.default_model;
  if (defaultModel !== undefined) merged.default_model = defaultModel;
  return merged;
}
