import type { ModelPricing } from './config.js';
import type { StepUsage } from './types.js';

/**
 * USD cost of one step. `usage.input_tokens` counts the whole prompt with its cached part, so the
 * uncached remainder is billed at the input price and the cached part at `cached_input` (the input
 * price when the model has no cache price).
 */
export function computeCost(pricing: ModelPricing | undefined, usage: StepUsage): number {
  if (!pricing) return 0;
  const cached = Math.min(Math.max(usage.cached_input_tokens, 0), usage.input_tokens);
  const uncached = usage.input_tokens - cached;
  const micro =
    uncached * pricing.input + cached * (pricing.cached_input ?? pricing.input) + usage.output_tokens * pricing.output;
  return micro / 1_000_000;
}
