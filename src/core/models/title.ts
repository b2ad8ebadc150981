import type { ModelRegistry } from './registry.js';
import type { ModelStepper } from './types.js';
import { WireStepper } from './wire/wire-stepper.js';

/**
 * System prompt of title requests. Exported so the fake model servers can recognize (and answer) them
 * without a script having to.
 */
export const TITLE_SYSTEM_PROMPT =
  'You name conversations. Reply with a short title (at most 6 words) for the conversation that starts ' +
  'with the user message below. Reply with the title only: no quotes, no trailing punctuation.';

export const MAX_TITLE_LENGTH = 60;
/** Long first messages add cost and nothing to a six-word title. */
const MAX_PROMPT_CHARS = 4000;
export const TITLE_TIMEOUT_MS = 30_000;

/**
 * Cleans a model's title answer: first non-empty line, no `Title:` prefix, no surrounding quotes or
 * markdown emphasis, no trailing period, at most 60 characters (cut at a word when possible).
 */
export function cleanTitle(raw: string): string | undefined {
  const line = raw.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  let title = line
    .replace(/^(title)\s*:\s*/i, '')
    .replace(/^[\s"'`“”‘’*_#]+|[\s"'`“”‘’*_]+$/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[.。]+$/, '')
    .trim();
  if (title.length > MAX_TITLE_LENGTH) {
    const cut = title.slice(0, MAX_TITLE_LENGTH);
    const space = cut.lastIndexOf(' ');
    title = (space >= MAX_TITLE_LENGTH / 2 ? cut.slice(0, space) : cut).trim();
  }
  return title.length > 0 ? title : undefined;
}

/** One stepper per registry: titles share the process's wire path (and its turn budget) with turns. */
const steppers = new WeakMap<ModelRegistry, ModelStepper>();

function titleStepper(registry: ModelRegistry): ModelStepper {
  let stepper = steppers.get(registry);
  if (stepper === undefined) {
    stepper = new WireStepper(registry);
    steppers.set(registry, stepper);
  }
  return stepper;
}

/**
 * Asks the model for a short title for a conversation. Never throws: on any failure (unknown model,
 * HTTP error, timeout, empty answer) it returns `undefined` and the caller uses the first user message
 * cut short instead.
 *
 * The request goes through `WireStepper`, the lean path turns use (one streamed step, no tools): for the
 * registry's providers Tower sends it over `node:http` and reads the SSE itself; a provider the wire path
 * does not read keeps the AI SDK's `doStream` (the stepper's own fallback). Not the AI SDK's
 * `generateText` + `fetch`: first titles come at the end of first turns, hundreds together, and that
 * path cost there a second HTTP stack (undici, loaded and compiled on first use), web streams and the
 * SDK's result pipeline per title (bench/RESULTS.md, wave 8 x1 and y3).
 */
export async function generateTitle(
  registry: ModelRegistry,
  modelId: string,
  firstUserMessage: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  // One controller for the caller's signal and the timeout: `AbortSignal.timeout` + `AbortSignal.any`
  // cost a weakly held signal pair and their bookkeeping per title (a third of a title's own CPU here).
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  const timer = setTimeout(() => controller.abort(new DOMException('title request timed out', 'TimeoutError')), TITLE_TIMEOUT_MS);
  timer.unref();
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const parts = titleStepper(registry).step({
      model: modelId,
      system: TITLE_SYSTEM_PROMPT,
      messages: [{ role: 'user', content: firstUserMessage.slice(0, MAX_PROMPT_CHARS) }],
      tools: [],
      signal: controller.signal,
    });
    const texts: string[] = [];
    let finished = false;
    // Read to the end, never left early: leaving would cancel the request, and with it the keep-alive
    // connection that a finished body hands back to the pool. The iteration ends right after its
    // terminal part (`finish` or `error`), or, aborted or timed out, without one.
    for await (const part of parts) {
      if (part.type === 'text') texts.push(part.delta);
      else if (part.type === 'finish') finished = true;
    }
    return finished ? cleanTitle(texts.join('')) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
