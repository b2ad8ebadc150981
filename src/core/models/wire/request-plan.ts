/**
 * Which request a model's steps send: Tower's own (`build-request.ts`), or the one the AI SDK provider
 * builds, captured at its fetch (`capture.ts`). A model starts on the provider's: its first step's
 * request is captured and sent, and Tower builds the same call itself beside it; only if the two are
 * identical (URL, every header, the body byte for byte) do the model's later steps take Tower's. A model
 * whose first request Tower does not reproduce (a provider version whose rules moved, a model it treats
 * specially) keeps the provider's for the life of the process, so nothing a provider does is lost;
 * a call Tower does not build (an option or part it does not know) takes the provider's too, per call.
 *
 * Anthropic's `max_tokens` for a model (its default per model, or the cap clamped to the model's limit)
 * is taken from that first request: the provider's table is read, not copied.
 */
import type { ModelRegistry } from '../registry.js';
import type { ResolvedLanguageModel } from '../providers.js';
import type { V2StreamResult } from '../v2-parts.js';
import { buildWireRequest, requestHead, type RequestHead } from './build-request.js';
import type { WireCall } from './build-parts.js';
import { captureRequest, type WireRequest } from './capture.js';

export type PlannedRequest = { request: WireRequest } | { passthrough: V2StreamResult };

type State =
  | { kind: 'unchecked'; head: Omit<RequestHead, 'maxTokens'> }
  | { kind: 'checking'; done: Promise<void> }
  | { kind: 'tower'; head: RequestHead }
  | { kind: 'provider' };

export class RequestPlan {
  private state: State;

  constructor(registry: ModelRegistry, modelId: string) {
    const target = registry.wireTarget?.(modelId);
    const head = target && requestHead(target);
    this.state = head ? { kind: 'unchecked', head } : { kind: 'provider' };
  }

  /** Where the plan stands (tests). */
  get kind(): State['kind'] {
    return this.state.kind;
  }

  /** Tower's request for `call`, when this model is on Tower's requests and Tower builds this call. */
  built(call: WireCall): WireRequest | undefined {
    return this.state.kind === 'tower' ? buildWireRequest(this.state.head, call) : undefined;
  }

  /**
   * The request for a step that `built` did not answer: after a check under way, Tower's if the check
   * put the model on Tower's; else the provider's, captured (and, for the model's first, checked).
   */
  async request(call: WireCall, model: ResolvedLanguageModel, signal: AbortSignal): Promise<PlannedRequest> {
    if (this.state.kind === 'checking') {
      await this.state.done;
      const built = this.built(call);
      if (built !== undefined) return { request: built };
    }
    const capture = () => captureRequest((abortSignal) => model.doStream({ ...call, abortSignal }), signal);
    const { state } = this;
    if (state.kind !== 'unchecked') return capture();
    let settle = () => {};
    this.state = { kind: 'checking', done: new Promise<void>((resolve) => (settle = resolve)) };
    try {
      const captured = await capture();
      this.state = this.check(state.head, call, captured);
      return captured;
    } catch (error) {
      // Nothing learnt (the provider refused the call, or the step was aborted): the next step checks.
      this.state = state;
      throw error;
    } finally {
      settle();
    }
  }

  private check(head: Omit<RequestHead, 'maxTokens'>, call: WireCall, captured: PlannedRequest): State {
    // A model that does not send through Tower's fetch is not one whose requests Tower builds.
    if (!('request' in captured)) return { kind: 'provider' };
    let full: RequestHead = head;
    if (head.target.type === 'anthropic') {
      const value = maxTokensOf(captured.request.body);
      if (value === undefined) return { kind: 'provider' };
      full = { ...head, maxTokens: { cap: call.maxOutputTokens, value } };
    }
    const built = buildWireRequest(full, call);
    // A call Tower does not build says nothing about the model: the next step checks.
    if (built === undefined) return { kind: 'unchecked', head };
    return sameRequest(built, captured.request) ? { kind: 'tower', head: full } : { kind: 'provider' };
  }
}

function maxTokensOf(body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as { max_tokens?: unknown } | null;
    return typeof parsed?.max_tokens === 'number' ? parsed.max_tokens : undefined;
  } catch {
    return undefined;
  }
}

/** Same URL, same body text, same header names with the same values. */
export function sameRequest(a: WireRequest, b: WireRequest): boolean {
  if (a.url !== b.url || a.body !== b.body) return false;
  const names = Object.keys(a.headers);
  return names.length === Object.keys(b.headers).length && names.every((name) => a.headers[name] === b.headers[name]);
}

const plans = new WeakMap<ModelRegistry, Map<string, RequestPlan>>();

/**
 * The plan of `modelId` with the token cap `cap` under `registry`'s providers, shared by the registry's
 * steppers of that cap (turns and titles may differ in it, and Anthropic's `max_tokens` with it).
 */
export function requestPlan(registry: ModelRegistry, modelId: string, cap: number | undefined): RequestPlan {
  let byModel = plans.get(registry);
  if (byModel === undefined) plans.set(registry, (byModel = new Map()));
  const key = `${cap ?? ''}\n${modelId}`;
  let plan = byModel.get(key);
  if (plan === undefined) byModel.set(key, (plan = new RequestPlan(registry, modelId)));
  return plan;
}
