import type { ProviderType } from '../config.js';
import { mapModelError } from '../errors.js';
import type { ModelRegistry } from '../registry.js';
import { AiSdkStepper, stepCallOptions, type AiSdkStepperOptions } from '../stepper.js';
import type { ModelStepper, StepPart, StepRequest } from '../types.js';
import { readV2Stream } from '../v2-parts.js';
import { AnthropicMessagesDecoder } from './anthropic-messages.js';
import type { WireRequest } from './capture.js';
import type { WireDecoder } from './decoder.js';
import { OpenAIChatDecoder } from './openai-chat.js';
import { PartQueue } from './part-queue.js';
import { requestPlan } from './request-plan.js';
import { streamWire } from './sse-stream.js';
import type { TurnBudget } from './turn-budget.js';

export interface WireStepperOptions extends AiSdkStepperOptions {
  /** The event-loop budget the streams share (default: the process's, `MODEL_TURN_BUDGET`). */
  turnBudget?: TurnBudget;
}

/** The provider types whose wire format Tower reads itself; any other type keeps the AI SDK path. */
const DECODERS: Partial<Record<ProviderType, (providerType: ProviderType, request: WireRequest) => WireDecoder>> = {
  openai: (type) => new OpenAIChatDecoder(type),
  'openai-compatible': (type) => new OpenAIChatDecoder(type),
  anthropic: (_type, request) => new AnthropicMessagesDecoder(request.url),
};

/**
 * The lean streaming path. For providers speaking OpenAI Chat Completions or Anthropic Messages, Tower
 * builds the request itself (`build-request.ts`: the provider's URL, headers and body, byte for byte),
 * once the model's first request, built by the AI SDK provider and captured at its fetch, showed it
 * builds the same (`request-plan.ts`); any call it does not build is still the provider's, captured.
 * Tower sends it over `node:http` and reads the SSE body itself
 * (`sse-stream.ts`, a decoder per format), without the provider's web-stream pipeline (undici body →
 * TextDecoderStream → EventSourceParserStream → zod-validated chunks → the provider's TransformStream),
 * which was most of the CPU per token (bench/RESULTS.md). Every other provider, and a model that does not
 * send through Tower's fetch, goes through `AiSdkStepper`'s `doStream` path.
 *
 * Same contract as `AiSdkStepper`: exactly one terminal part (`finish` or `error`, errors mapped by
 * `mapModelError`), or, on abort, an end without one (the HTTP request is destroyed at once). No retries,
 * as before: a failed step is the agent loop's to report.
 */
export class WireStepper implements ModelStepper {
  private readonly fallback: AiSdkStepper;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly options: WireStepperOptions = {},
  ) {
    this.fallback = new AiSdkStepper(registry, options);
  }

  step(req: StepRequest): AsyncIterable<StepPart> {
    const providerType = this.registry.providerType(req.model);
    const decoder = providerType !== undefined ? DECODERS[providerType] : undefined;
    if (providerType === undefined || decoder === undefined) return this.fallback.step(req);
    return {
      [Symbol.asyncIterator]: () => {
        const queue = new PartQueue<StepPart>(req.signal);
        if (!req.signal.aborted) void this.run(req, providerType, decoder, queue);
        return queue;
      },
    };
  }

  private async run(
    req: StepRequest,
    providerType: ProviderType,
    decoder: (providerType: ProviderType, request: WireRequest) => WireDecoder,
    queue: PartQueue<StepPart>,
  ): Promise<void> {
    try {
      const model = this.registry.languageModel(req.model);
      const call = stepCallOptions(req, this.options);
      const plan = requestPlan(this.registry, req.model, this.options.maxOutputTokens);
      const built = plan.built(call);
      const captured = built !== undefined ? { request: built } : await plan.request(call, model, req.signal);
      if ('passthrough' in captured) {
        const { passthrough } = captured;
        await pipe(readV2Stream(() => passthrough, req.signal, providerType), queue);
        return;
      }
      // Aborted meanwhile: the queue cancels nothing yet, nothing was sent.
      if (queue.ended) return;
      // Throws at once for a request Node refuses to send (a header with a newline, a bad URL).
      streamWire(captured.request, decoder(providerType, captured.request), queue, this.options.turnBudget);
    } catch (error) {
      queue.push({ type: 'error', ...mapModelError(error) });
      queue.close();
    }
  }
}

/** A provider stream read the AI SDK way, into the queue, under its flow control. */
async function pipe(parts: AsyncGenerator<StepPart>, queue: PartQueue<StepPart>): Promise<void> {
  let gate: Promise<void> | undefined;
  let open = () => {};
  const release = () => {
    open();
    gate = undefined;
  };
  queue.attach({
    pause: () => (gate ??= new Promise<void>((resolve) => (open = resolve))),
    resume: release,
    cancel: release,
  });
  for await (const part of parts) {
    if (queue.ended) break;
    queue.push(part);
    if (gate !== undefined) await gate;
  }
  queue.close();
}
