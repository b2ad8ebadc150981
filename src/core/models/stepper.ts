import { mapModelError } from './errors.js';
import { toV2Prompt, toV2Tools, type StreamCallOptions } from './prompt.js';
import type { ResolvedLanguageModel } from './providers.js';
import type { ModelRegistry } from './registry.js';
import type { ModelStepper, StepPart, StepRequest } from './types.js';
import { readV2Stream } from './v2-parts.js';

export interface AiSdkStepperOptions {
  /** Output token cap per step; by default each provider's own (model-specific) default. */
  maxOutputTokens?: number;
}

/** The provider call of one step (what `streamText` would hand `doStream`), without the abort signal. */
export function stepCallOptions(req: StepRequest, options: AiSdkStepperOptions): Omit<StreamCallOptions, 'abortSignal'> {
  return {
    prompt: toV2Prompt(req.system, req.messages),
    ...toV2Tools(req.tools),
    ...(options.maxOutputTokens !== undefined ? { maxOutputTokens: options.maxOutputTokens } : {}),
  };
}

/**
 * One model step through an AI SDK provider, driven at the provider level: `LanguageModelV2.doStream()`
 * builds the request and parses the wire format, and its stream parts are mapped in `v2-parts.ts`.
 * `streamText` is not used: its chain of web-stream transforms and per-chunk promise reactions cost more
 * CPU per token than the provider's parsing (bench/RESULTS.md), and Tower needs none of it (no tool
 * execution, no multi-step, no retries: those are the agent loop's).
 *
 * The iteration ends after exactly one terminal part — `finish` or `error` — or, when `req.signal`
 * aborts, simply ends without either (no throw): the agent loop reads `signal.aborted` to tell a cancel
 * from a completed step.
 */
export class AiSdkStepper implements ModelStepper {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly options: AiSdkStepperOptions = {},
  ) {}

  async *step(req: StepRequest): AsyncIterable<StepPart> {
    const { signal } = req;
    if (signal.aborted) return;
    let model: ResolvedLanguageModel;
    try {
      model = this.registry.languageModel(req.model);
    } catch (error) {
      yield { type: 'error', ...mapModelError(error) };
      return;
    }
    const call: StreamCallOptions = { ...stepCallOptions(req, this.options), abortSignal: signal };
    yield* readV2Stream(() => model.doStream(call), signal, this.registry.providerType(req.model));
  }
}
