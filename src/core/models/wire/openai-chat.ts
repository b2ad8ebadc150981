import type { LanguageModelUsage } from 'ai';
import { mapModelError } from '../errors.js';
import type { ProviderType } from '../config.js';
import { toStepUsage } from '../usage.js';
import { isRecord, type JsonRecord } from '../../../protocol/guards.js';
import { num, parseEventJson, type Emit, type WireDecoder } from './decoder.js';
import { DeltaTemplate, type DeltaPick } from './delta-template.js';
import { ToolCallAssembler } from './tool-calls.js';

/** As `mapOpenAIFinishReason` / `mapOpenAICompatibleFinishReason` of the AI SDK providers. */
function finishReasonOf(reason: string): string {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    case 'function_call':
    case 'tool_calls':
      return 'tool-calls';
    default:
      return 'unknown';
  }
}

/** The first choice's delta of a chunk, where the decoder reads it. */
const deltaOf = (value: JsonRecord): JsonRecord | undefined => {
  const choice = Array.isArray(value.choices) ? (value.choices[0] as unknown) : undefined;
  return isRecord(choice) && isRecord(choice.delta) ? choice.delta : undefined;
};
const PICKS: Record<'content' | 'reasoning_content' | 'reasoning', DeltaPick> = {
  content: (value) => deltaOf(value)?.content,
  reasoning_content: (value) => deltaOf(value)?.reasoning_content,
  reasoning: (value) => deltaOf(value)?.reasoning,
};

export interface WireDecoderOptions {
  /** Reads repeated delta events without `JSON.parse` (`delta-template.ts`). Default true; off in tests as the reference. */
  deltaTemplate?: boolean;
}

/**
 * OpenAI Chat Completions chunks (`data: {chat.completion.chunk}` … `data: [DONE]`), decoded as the AI
 * SDK's `openai` chat and `openai-compatible` chat models decode them, so both paths yield the same
 * parts: text deltas; reasoning deltas (`reasoning_content`, or `reasoning`) for openai-compatible
 * servers only, as the AI SDK's OpenAI provider ignores them; tool calls assembled from their deltas and
 * reported at the end; usage (cached prompt tokens included) from the last chunk that has it; an `error`
 * chunk ends the step with an error part. The step finishes when the body ends. A chunk that carries only a
 * text or reasoning delta teaches the decoder its template, and the chunks like it that follow are read
 * through it (`DeltaTemplate`).
 */
export class OpenAIChatDecoder implements WireDecoder {
  private finishReason = 'unknown';
  private usage: JsonRecord | undefined;
  private choiceUsage: JsonRecord | undefined;
  private readonly calls = new ToolCallAssembler();
  private readonly compatible: boolean;
  private readonly template: DeltaTemplate | undefined;

  constructor(
    private readonly providerType: ProviderType,
    options: WireDecoderOptions = {},
  ) {
    this.compatible = providerType === 'openai-compatible';
    this.template = options.deltaTemplate === false ? undefined : new DeltaTemplate();
  }

  event(_type: string | undefined, data: string, emit: Emit): boolean {
    if (data === '[DONE]') return false;
    const template = this.template;
    const fast = template?.match(data);
    if (fast !== undefined) {
      if (fast.length > 0) emit({ type: (template as DeltaTemplate).kind, delta: fast });
      return false;
    }
    const value = parseEventJson(data, emit);
    if (value === undefined) return true;
    if ('error' in value) {
      emit({ type: 'error', ...mapModelError(value.error) });
      return true;
    }
    if (isRecord(value.usage)) this.usage = value.usage;
    const choice = Array.isArray(value.choices) ? (value.choices[0] as unknown) : undefined;
    if (!isRecord(choice)) return false;
    if (this.compatible && isRecord(choice.usage)) this.choiceUsage = choice.usage;
    if (typeof choice.finish_reason === 'string') this.finishReason = finishReasonOf(choice.finish_reason);
    const delta = choice.delta;
    if (!isRecord(delta)) return false;
    const reasoning = !this.compatible ? undefined : typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
    const hasReasoning = typeof reasoning === 'string' && reasoning.length > 0;
    if (hasReasoning) emit({ type: 'reasoning', delta: reasoning });
    const hasText = typeof delta.content === 'string' && delta.content.length > 0;
    if (hasText) emit({ type: 'text', delta: delta.content as string });
    if (template !== undefined && !Array.isArray(delta.tool_calls)) this.learn(template, data, value, choice, delta, hasReasoning, hasText);
    if (Array.isArray(delta.tool_calls)) {
      for (let i = 0; i < delta.tool_calls.length; i++) {
        const problem = this.calls.delta(delta.tool_calls[i], i);
        if (problem !== undefined) {
          emit({ type: 'error', code: 'model_error', message: problem });
          return true;
        }
      }
    }
    return false;
  }

  /**
   * A chunk whose only effect was one delta (no usage, no finish reason, no error, no tool calls) is a
   * template for the next ones: text when the reasoning is empty, reasoning when the text is.
   */
  private learn(template: DeltaTemplate, data: string, value: JsonRecord, choice: JsonRecord, delta: JsonRecord, hasReasoning: boolean, hasText: boolean): void {
    if (isRecord(value.usage) || (this.compatible && isRecord(choice.usage)) || typeof choice.finish_reason === 'string') return;
    if (!hasReasoning && typeof delta.content === 'string') template.learn(data, value, 'content', 'text', PICKS.content);
    else if (!hasText && this.compatible) {
      const key = typeof delta.reasoning_content === 'string' ? 'reasoning_content' : 'reasoning';
      if (typeof delta[key] === 'string') template.learn(data, value, key, 'reasoning', PICKS[key]);
    }
  }

  end(emit: Emit): void {
    this.calls.flush(emit);
    emit({ type: 'finish', usage: toStepUsage(this.languageModelUsage(), this.providerType, undefined), finish_reason: this.finishReason });
  }

  private languageModelUsage(): LanguageModelUsage | undefined {
    const usage = this.usage ?? this.choiceUsage;
    if (usage === undefined) return undefined;
    const prompt = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : undefined;
    return {
      inputTokens: num(usage.prompt_tokens),
      outputTokens: num(usage.completion_tokens),
      totalTokens: num(usage.total_tokens),
      cachedInputTokens: num(prompt?.cached_tokens),
    };
  }
}
