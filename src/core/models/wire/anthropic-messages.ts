import { APICallError } from 'ai';
import { mapModelError } from '../errors.js';
import { toStepUsage } from '../usage.js';
import { parseToolInput } from '../v2-parts.js';
import { isRecord, type JsonRecord } from '../../../protocol/guards.js';
import { num, parseEventJson, type Emit, type WireDecoder } from './decoder.js';
import { DeltaTemplate, type DeltaPick } from './delta-template.js';
import type { WireDecoderOptions } from './openai-chat.js';

/** As `mapAnthropicStopReason` of the AI SDK's Anthropic provider. */
function finishReasonOf(reason: unknown): string {
  switch (reason) {
    case 'pause_turn':
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'refusal':
      return 'content-filter';
    case 'tool_use':
      return 'tool-calls';
    case 'max_tokens':
      return 'length';
    case 'compaction':
      return 'other';
    default:
      return 'unknown';
  }
}

const deltaField =
  (key: string): DeltaPick =>
  (value) =>
    isRecord(value.delta) ? value.delta[key] : undefined;
const PICK_TEXT = deltaField('text');
const PICK_THINKING = deltaField('thinking');

type Block = { kind: 'text' | 'reasoning' } | { kind: 'tool'; id: string; name: string; input: string };

/**
 * Anthropic Messages events (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `ping`,
 * `error`), decoded as the AI SDK's Anthropic provider decodes them, so both paths yield the same parts:
 * text deltas; thinking deltas as reasoning (signatures and redacted thinking carry no text); a
 * `tool_use` block's `input_json_delta` pieces assembled and reported when the block stops (empty input
 * is `{}`); usage from `message_start` and `message_delta` (cache reads and writes kept apart, then
 * normalised by `toStepUsage`); the finish at `message_stop`. An `error` event ends the step with an error
 * part; one before `message_start` is what the provider reports as an HTTP error (529 when overloaded,
 * else 500), since nothing of the answer exists yet. Event types this decoder does not know are skipped,
 * as Anthropic's versioning policy asks of clients. A text or thinking delta teaches the decoder its
 * template, and the deltas like it that follow are read through it (`DeltaTemplate`).
 */
export class AnthropicMessagesDecoder implements WireDecoder {
  private readonly blocks = new Map<number, Block>();
  private started = false;
  private finishReason = 'unknown';
  private inputTokens: number | undefined;
  private outputTokens: number | undefined;
  private cacheRead: number | undefined;
  private cacheWrite: number | undefined;
  private readonly template: DeltaTemplate | undefined;

  constructor(
    private readonly url: string,
    options: WireDecoderOptions = {},
  ) {
    this.template = options.deltaTemplate === false ? undefined : new DeltaTemplate();
  }

  event(_type: string | undefined, data: string, emit: Emit): boolean {
    const template = this.template;
    const fast = template?.match(data);
    if (fast !== undefined) {
      if (fast.length > 0) emit({ type: (template as DeltaTemplate).kind, delta: fast });
      return false;
    }
    const value = parseEventJson(data, emit);
    if (value === undefined) return true;
    switch (value.type) {
      case 'message_start':
        if (!this.started) this.start(isRecord(value.message) ? value.message : {});
        return false;
      case 'content_block_start':
        this.startBlock(value);
        return false;
      case 'content_block_delta':
        this.delta(data, value, emit);
        return false;
      case 'content_block_stop':
        this.stopBlock(value, emit);
        return false;
      case 'message_delta':
        this.messageDelta(value);
        return false;
      case 'message_stop':
        emit({ type: 'finish', usage: this.stepUsage(), finish_reason: this.finishReason });
        return true;
      case 'error':
        emit({ type: 'error', ...mapModelError(this.started ? value.error : this.earlyError(value.error)) });
        return true;
      default:
        return false; // ping, and event types added after this was written
    }
  }

  end(emit: Emit): void {
    // The provider emits nothing when the body ends before `message_stop`; the stepper then finishes
    // with what is known: nothing.
    emit({ type: 'finish', usage: toStepUsage(undefined, 'anthropic', undefined), finish_reason: 'unknown' });
  }

  private start(message: JsonRecord): void {
    this.started = true;
    const usage = isRecord(message.usage) ? message.usage : {};
    this.inputTokens = num(usage.input_tokens);
    this.cacheRead = num(usage.cache_read_input_tokens);
    this.cacheWrite = num(usage.cache_creation_input_tokens);
  }

  private startBlock(value: JsonRecord): void {
    const block = isRecord(value.content_block) ? value.content_block : {};
    const index = num(value.index);
    if (index === undefined) return;
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        return;
      case 'thinking':
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'reasoning' });
        return;
      case 'tool_use':
        if (typeof block.id === 'string' && typeof block.name === 'string') {
          this.blocks.set(index, { kind: 'tool', id: block.id, name: block.name, input: '' });
        }
        return;
      default:
        // Server tools and their results run at Anthropic; Tower offers none.
        return;
    }
  }

  private delta(data: string, value: JsonRecord, emit: Emit): void {
    const delta = isRecord(value.delta) ? value.delta : {};
    switch (delta.type) {
      case 'text_delta':
        if (typeof delta.text !== 'string') return;
        if (delta.text.length > 0) emit({ type: 'text', delta: delta.text });
        this.template?.learn(data, value, 'text', 'text', PICK_TEXT);
        return;
      case 'thinking_delta':
        if (typeof delta.thinking !== 'string') return;
        if (delta.thinking.length > 0) emit({ type: 'reasoning', delta: delta.thinking });
        this.template?.learn(data, value, 'thinking', 'reasoning', PICK_THINKING);
        return;
      case 'input_json_delta': {
        const block = this.blocks.get(num(value.index) ?? -1);
        const piece = typeof delta.partial_json === 'string' ? delta.partial_json : '';
        if (piece.length === 0 || block === undefined) return;
        if (block.kind === 'tool') block.input += piece;
        else if (block.kind === 'text') emit({ type: 'text', delta: piece });
        return;
      }
      default:
        return; // signature_delta, citations_delta: nothing Tower records
    }
  }

  private stopBlock(value: JsonRecord, emit: Emit): void {
    const index = num(value.index) ?? -1;
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    if (block?.kind === 'tool') {
      emit({ type: 'tool_call', id: block.id, name: block.name, args: parseToolInput(block.input === '' ? '{}' : block.input) });
    }
  }

  private messageDelta(value: JsonRecord): void {
    const usage = isRecord(value.usage) ? value.usage : {};
    const delta = isRecord(value.delta) ? value.delta : {};
    this.cacheRead = num(usage.cache_read_input_tokens) ?? this.cacheRead;
    this.cacheWrite = num(usage.cache_creation_input_tokens) ?? this.cacheWrite;
    this.inputTokens = num(usage.input_tokens) ?? this.inputTokens;
    this.outputTokens = num(usage.output_tokens);
    this.finishReason = finishReasonOf(delta.stop_reason);
  }

  private stepUsage() {
    const input = this.inputTokens;
    const output = this.outputTokens;
    return toStepUsage(
      { inputTokens: input, outputTokens: output, totalTokens: (input ?? 0) + (output ?? 0), cachedInputTokens: this.cacheRead },
      'anthropic',
      { anthropic: { cacheCreationInputTokens: this.cacheWrite ?? null } },
    );
  }

  /** An error before the message started, as the provider throws it from `doStream`. */
  private earlyError(error: unknown): APICallError {
    const detail = isRecord(error) ? error : {};
    const overloaded = detail.type === 'overloaded_error';
    return new APICallError({
      message: typeof detail.message === 'string' ? detail.message : 'model error',
      url: this.url,
      requestBodyValues: undefined,
      statusCode: overloaded ? 529 : 500,
      responseBody: JSON.stringify(error),
      isRetryable: overloaded,
    });
  }
}
