import type { ProviderType } from './config.js';
import { mapModelError } from './errors.js';
import type { ResolvedLanguageModel } from './providers.js';
import type { StepPart, StepUsage } from './types.js';
import { toStepUsage } from './usage.js';

export type V2StreamResult = Awaited<ReturnType<ResolvedLanguageModel['doStream']>>;
type V2StreamPart = V2StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

const ABORTED = Symbol('aborted');

/**
 * Reads one step from an AI SDK provider's `LanguageModelV2.doStream()` result and maps its stream parts
 * to StepParts. `start` is called once, here; its stream is cancelled when the consumer leaves or the
 * signal aborts.
 *
 * The iteration ends after exactly one terminal part — `finish` or `error` — or, when `signal` aborts,
 * simply ends without either (no throw). An abort takes effect at once, whatever the provider or a proxy
 * in between does.
 */
export async function* readV2Stream(
  start: () => V2StreamResult | PromiseLike<V2StreamResult>,
  signal: AbortSignal,
  providerType: ProviderType | undefined,
): AsyncGenerator<StepPart> {
  let reader: ReadableStreamDefaultReader<V2StreamPart> | undefined;
  let onAbort = () => {};
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => {
      resolve(ABORTED);
      // Cancelling the reader ends a pending read at once, with `done`.
      reader?.cancel().catch(() => {});
    };
  });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const pending = Promise.resolve(start());
    // Left behind by an abort, it may still reject (AbortError); nobody waits for it any more.
    pending.catch(() => {});
    const started = await Promise.race([pending, aborted]);
    if (started === ABORTED || signal.aborted) {
      // The response may still arrive: its body is cancelled then, not left to buffer.
      pending.then((late) => late.stream.cancel().catch(() => {}), () => {});
      return;
    }
    reader = started.stream.getReader();
    for (;;) {
      const next = await reader.read();
      if (signal.aborted || next.done) break;
      const out = toStepPart(next.value, providerType);
      if (out !== undefined) {
        yield out;
        if (out.type === 'finish' || out.type === 'error') return;
      }
    }
    if (signal.aborted) return;
    // A stream that closed without a finish part (the provider's parser saw no final chunk): the step
    // still ends, with what is known.
    yield { type: 'finish', usage: toStepUsage(undefined, providerType, undefined), finish_reason: 'unknown' };
  } catch (error) {
    if (signal.aborted) return;
    yield { type: 'error', ...mapModelError(error) };
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Stops the provider's response body when the consumer leaves early (return or throw).
    reader?.cancel().catch(() => {});
  }
}

function toStepPart(part: V2StreamPart, providerType: ProviderType | undefined): StepPart | undefined {
  switch (part.type) {
    case 'text-delta':
      return part.delta.length > 0 ? { type: 'text', delta: part.delta } : undefined;
    case 'reasoning-delta':
      return part.delta.length > 0 ? { type: 'reasoning', delta: part.delta } : undefined;
    case 'tool-call':
      // Invalid calls (unparseable JSON, unknown tool) come through too, with the raw input: the executor
      // answers them with an error result the model can correct itself from.
      return { type: 'tool_call', id: part.toolCallId, name: part.toolName, args: parseToolInput(part.input) };
    case 'finish': {
      const usage: StepUsage = toStepUsage(part.usage, providerType, part.providerMetadata);
      return { type: 'finish', usage, finish_reason: part.finishReason };
    }
    case 'error':
      return { type: 'error', ...mapModelError(part.error) };
    default:
      // text/reasoning start and end, tool-input-* (the complete `tool-call` follows), stream-start
      // (warnings), response-metadata, sources, files and raw chunks: nothing Tower records.
      return undefined;
  }
}

/** As the AI SDK parses tool inputs: empty means `{}`, unparseable JSON stays the raw string. */
export function parseToolInput(input: string): unknown {
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}
