import type { LanguageModelUsage } from 'ai';
import { mapModelError } from '../errors.js';
import type { ProviderType } from '../config.js';
import { toStepUsage } from '../usage.js';
import { isRecord, num, parseEventJson, type Emit, type JsonRecord, type WireDecoder } from './decoder.js';
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

/**
 * OpenAI Chat Completions chunks (`data: {chat.completion.chunk}` … `data: [DONE]`), decoded as the AI
 * SDK's `openai` chat and `openai-compatible` chat models decode them, so both paths yield the same
 * parts: text deltas; reasoning deltas (`reasoning_content`, or `reasoning`) for openai-compatible
 * servers only, as the AI SDK's OpenAI provider ignores them; tool calls assembled from their deltas and
 * reported at the end; usage (cached prompt tokens included) from the last chunk that has it; an `error`
 * chunk ends the step with an error part. The step finishes when the body ends.
 */
export class OpenAIChatDecoder implements WireDecoder {
  private finishReason = 'unknown';
  private usage: JsonRecord | undefined;
  private choiceUsage: JsonRecord | undefined;
  private readonly calls = new ToolCallAssembler();
  private readonly compatible: boolean;

  constructor(private readonly providerType: ProviderType) {
    this.compatible = providerType === 'openai-compatible';
  }

  event(_type: string | undefined, data: string, emit: Emit): boolean {
    if (data === '[DONE]') return false;
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
    if (this.compatible) {
      const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
      if (typeof reasoning === 'string' && reasoning.length > 0) emit({ type: 'reasoning', delta: reasoning });
    }
    if (typeof delta.content === 'string' && delta.content.length > 0) emit({ type: 'text', delta: delta.content });
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
