import type { ConversationMessage } from '../../protocol/conversation.js';
import type { ToolSpec } from '../../protocol/tools.js';

// Re-exported: the model layer offers tools to the model, but the contract itself lives in protocol/.
export type { ToolSpec };

export interface StepUsage {
  /** The whole prompt, cached part included (OpenAI's convention; Anthropic's counts are normalized to it). */
  input_tokens: number;
  output_tokens: number;
  /** The part of `input_tokens` read from the provider's prompt cache (billed at the cache price). */
  cached_input_tokens: number;
}

/** What one model step streams back, provider-neutral. */
export type StepPart =
  | { type: 'text'; delta: string }
  | { type: 'reasoning'; delta: string }
  | { type: 'tool_call'; id: string; name: string; args: unknown }
  | { type: 'finish'; usage: StepUsage; finish_reason: string }
  | { type: 'error'; code: string; message: string };

/**
 * A step's part iterator. Besides `next`, it may hand over synchronously the parts that have already
 * arrived and wait in its buffer (`takeReady`, undefined once none waits, or after an abort): when the
 * process fell behind a model stream, the agent loop takes them all in one go and appends a run of text
 * (or reasoning) deltas as one event instead of one per delta. Iterators without it (async generators,
 * the AI SDK path) are read part by part, as before.
 */
export interface StepPartIterator extends AsyncIterator<StepPart> {
  takeReady?(): StepPart | undefined;
  /**
   * Tells `observer` synchronously of each part as the consumer gets it (from `next` or `takeReady`) and,
   * once, of the end of the iteration: what instrumentation watches without a promise of its own per part
   * (`timedStepper`). Iterators without it are watched through their `next` results.
   */
  observe?(observer: IterationObserver<StepPart>): void;
  /**
   * Push mode, instead of `next`/`takeReady`: parts go to `sink` as they arrive, with no promise per part
   * (`PartQueue.drain`); resolves when the iteration ends. Iterators without it are pulled.
   */
  drain?(sink: PartSink<StepPart>): Promise<void>;
}

/** A push-mode consumer (`StepPartIterator.drain`). */
export interface PartSink<T> {
  /** One part, synchronously as it arrived. */
  item(value: T): void;
  /**
   * The parts that arrived together have all been given (the moment to flush a coalesced run). A promise
   * returned holds further parts until it settles (backpressure).
   */
  batch(): Promise<void> | undefined;
}

export interface IterationObserver<T> {
  item(value: T): void;
  end(): void;
}

export interface StepRequest {
  /** `provider/model` */
  model: string;
  system?: string;
  messages: ConversationMessage[];
  tools: ToolSpec[];
  signal: AbortSignal;
}

/**
 * Runs exactly one model step (one model call, no tool execution). The agent loop drives the loop itself
 * so it can steer, pause for approval and abort between steps. Failures are yielded as `error` parts with
 * codes (`model_http_error`, `rate_limited`, `context_too_long`, `network_error`, `model_error`), never
 * thrown, except an abort, which ends the iteration.
 */
export interface ModelStepper {
  step(req: StepRequest): AsyncIterable<StepPart>;
}

export interface ModelInfo {
  /** `provider/model` */
  id: string;
  provider: string;
  name: string;
  /** USD per million tokens. */
  pricing?: { input: number; output: number; cached_input?: number };
  context_window?: number;
}
