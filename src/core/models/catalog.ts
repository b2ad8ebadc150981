import type { ModelPricing } from './config.js';

/**
 * Default prices (USD per million tokens, list prices as best known when written) and context windows of
 * common models. A default only: vendors change prices, so a `models[].pricing` entry in the config wins.
 * `listed` models are offered in the model list of a vendor provider that has no models configured.
 */
export interface CatalogEntry {
  vendor: 'openai' | 'anthropic';
  /** Base name (no date suffix), also the name used when listing. */
  name: string;
  pricing: ModelPricing;
  context_window: number;
  listed: boolean;
}

const entry = (
  vendor: CatalogEntry['vendor'],
  name: string,
  [input, output, cached_input]: [number, number, number],
  context_window: number,
  listed = true,
): CatalogEntry => ({ vendor, name, pricing: { input, output, cached_input }, context_window, listed });

/** In listing order: each vendor's first entry is its default model. */
export const MODEL_CATALOG: readonly CatalogEntry[] = [
  entry('openai', 'gpt-4.1', [2, 8, 0.5], 1_047_576),
  entry('openai', 'gpt-4.1-mini', [0.4, 1.6, 0.1], 1_047_576),
  entry('openai', 'gpt-4.1-nano', [0.1, 0.4, 0.025], 1_047_576, false),
  entry('openai', 'gpt-4o', [2.5, 10, 1.25], 128_000),
  entry('openai', 'gpt-4o-mini', [0.15, 0.6, 0.075], 128_000),
  entry('openai', 'gpt-5', [1.25, 10, 0.125], 400_000),
  entry('openai', 'gpt-5-mini', [0.25, 2, 0.025], 400_000),
  entry('openai', 'gpt-5-nano', [0.05, 0.4, 0.005], 400_000, false),
  entry('openai', 'o3', [2, 8, 0.5], 200_000),
  entry('openai', 'o4-mini', [1.1, 4.4, 0.275], 200_000),
  entry('openai', 'o3-mini', [1.1, 4.4, 0.55], 200_000, false),
  entry('anthropic', 'claude-sonnet-4-5', [3, 15, 0.3], 200_000),
  entry('anthropic', 'claude-sonnet-4', [3, 15, 0.3], 200_000),
  entry('anthropic', 'claude-opus-4-1', [15, 75, 1.5], 200_000),
  entry('anthropic', 'claude-opus-4', [15, 75, 1.5], 200_000),
  entry('anthropic', 'claude-haiku-4-5', [1, 5, 0.1], 200_000),
  entry('anthropic', 'claude-3-7-sonnet', [3, 15, 0.3], 200_000, false),
  entry('anthropic', 'claude-3-5-sonnet', [3, 15, 0.3], 200_000, false),
  entry('anthropic', 'claude-3-5-haiku', [0.8, 4, 0.08], 200_000),
];

/**
 * Anthropic's API takes dated ids or aliases (`claude-sonnet-4-0`, `claude-3-5-haiku-latest`), not
 * every bare base name, so listing uses a name the API accepts.
 */
const LISTING_NAMES: Record<string, string> = {
  'claude-sonnet-4': 'claude-sonnet-4-0',
  'claude-opus-4': 'claude-opus-4-0',
  'claude-3-5-haiku': 'claude-3-5-haiku-latest',
};

const BY_NAME = new Map(MODEL_CATALOG.map((e) => [e.name, e]));

/** Strips what distinguishes snapshots of one model: `-20250514`, `-2024-08-06`, `-latest`, `-0`. */
function baseName(name: string): string {
  return name.replace(/-(\d{8}|\d{4}-\d{2}-\d{2}|latest|0)$/, '');
}

/**
 * The catalog entry for a model name, trying the name as is, then without a gateway prefix
 * (`openai/gpt-4o` on an OpenAI-compatible router), each also without a snapshot suffix.
 */
export function findCatalogEntry(modelName: string): CatalogEntry | undefined {
  const lastSegment = modelName.slice(modelName.lastIndexOf('/') + 1);
  for (const candidate of [modelName, lastSegment]) {
    const found = BY_NAME.get(candidate) ?? BY_NAME.get(baseName(candidate));
    if (found) return found;
  }
  return undefined;
}

/** Model names to list for a vendor provider with no configured models. */
export function listedModelNames(vendor: CatalogEntry['vendor']): string[] {
  return MODEL_CATALOG.filter((e) => e.vendor === vendor && e.listed).map((e) => LISTING_NAMES[e.name] ?? e.name);
}
