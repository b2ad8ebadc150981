import type { LanguageModelUsage, ProviderMetadata } from 'ai';
import type { ProviderType } from './config.js';
import type { StepUsage } from './types.js';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Tower counts `input_tokens` as the whole prompt, cached part included (OpenAI's convention). The AI SDK
 * v5 Anthropic provider passes Anthropic's numbers through, where `input_tokens` leaves out cache reads
 * and cache writes, so those are added back here.
 */
export function toStepUsage(
  usage: LanguageModelUsage | undefined,
  providerType: ProviderType | undefined,
  providerMetadata: ProviderMetadata | undefined,
): StepUsage {
  const input = count(usage?.inputTokens);
  const output = count(usage?.outputTokens);
  const cached = count(usage?.cachedInputTokens);
  if (providerType === 'anthropic') {
    const cacheWrites = count(providerMetadata?.anthropic?.cacheCreationInputTokens);
    return { input_tokens: input + cached + cacheWrites, output_tokens: output, cached_input_tokens: cached };
  }
  return { input_tokens: input, output_tokens: output, cached_input_tokens: Math.min(cached, input) };
}
