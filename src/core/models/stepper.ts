import { streamText } from 'ai';
import { untilAborted } from './abortable.js';
import { mapModelError } from './errors.js';
import { toModelMessages } from './messages.js';
import type { ModelRegistry } from './registry.js';
import { toToolSet } from './tools.js';
import type { ModelStepper, StepPart, StepRequest } from './types.js';
import { toStepUsage } from './usage.js';

export interface AiSdkStepperOptions {
  /** Output token cap per step; by default each provider's own (model-specific) default. */
  maxOutputTokens?: number;
}

/**
 * One model step through the AI SDK. The iteration ends after exactly one terminal part — `finish` or
 * `error` — or, when `req.signal` aborts, simply ends without either (no throw): the agent loop reads
 * `signal.aborted` to tell a cancel from a completed step.
 */
export class AiSdkStepper implements ModelStepper {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly options: AiSdkStepperOptions = {},
  ) {}

  async *step(req: StepRequest): AsyncIterable<StepPart> {
    if (req.signal.aborted) return;
    let model;
    try {
      model = this.registry.languageModel(req.model);
    } catch (error) {
      yield { type: 'error', ...mapModelError(error) };
      return;
    }
    const providerType = this.registry.providerType(req.model);
    try {
      const result = streamText({
        model,
        ...(req.system !== undefined ? { system: req.system } : {}),
        messages: toModelMessages(req.messages),
        ...(req.tools.length > 0 ? { tools: toToolSet(req.tools) } : {}),
        ...(this.options.maxOutputTokens !== undefined ? { maxOutputTokens: this.options.maxOutputTokens } : {}),
        // Retrying is the agent loop's decision (it knows about turns, budgets and cancellation).
        maxRetries: 0,
        abortSignal: req.signal,
        // Errors arrive as `error` parts below; the default handler would also print them to stderr.
        onError: () => {},
      });
      for await (const part of untilAborted(result.fullStream, req.signal)) {
        if (req.signal.aborted) return;
        switch (part.type) {
          case 'text-delta':
            if (part.text.length > 0) yield { type: 'text', delta: part.text };
            break;
          case 'reasoning-delta':
            if (part.text.length > 0) yield { type: 'reasoning', delta: part.text };
            break;
          case 'tool-call':
            // Invalid calls (unparseable JSON, unknown tool) come through too, with the raw input: the
            // executor answers them with an error result the model can correct itself from.
            yield { type: 'tool_call', id: part.toolCallId, name: part.toolName, args: part.input };
            break;
          case 'finish-step':
            // One step only, so the step's finish is the call's finish; the later `finish` part repeats it.
            yield {
              type: 'finish',
              usage: toStepUsage(part.usage, providerType, part.providerMetadata),
              finish_reason: part.finishReason,
            };
            return;
          case 'error':
            yield { type: 'error', ...mapModelError(part.error) };
            return;
          case 'abort':
            return;
          default:
            break;
        }
      }
    } catch (error) {
      if (req.signal.aborted) return;
      yield { type: 'error', ...mapModelError(error) };
    }
  }
}
