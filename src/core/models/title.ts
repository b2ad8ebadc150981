import { generateText } from 'ai';
import type { ModelRegistry } from './registry.js';

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
const TITLE_TIMEOUT_MS = 30_000;

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

let primed = false;

/**
 * Makes the first title request about as cheap as the later ones; call it at start-up (idempotent).
 * Titles are the only requests that go through the AI SDK and `fetch`, and the first one pays one-off
 * costs in one go, at the end of the first turn (where many first turns may end together):
 * - Node builds one "Releasing reader" TypeError per process, the first time any web-stream reader
 *   releases its lock, and formats its stack at once. With source maps on (tsx, `--enable-source-maps`)
 *   that parses the whole source map of each file in the stack: in the AI SDK's response reading ~1 MB
 *   of maps, 60-170 ms of the main thread. Releasing a reader here, with a short stack of our own,
 *   builds that error once, cheaply; the SDK's releases reuse it.
 * - `fetch` loads and compiles Node's bundled undici on first use (~50 ms with the GC it causes): a
 *   `data:` fetch here does that without any connection.
 */
export function primeTitleRequests(): void {
  if (primed) return;
  primed = true;
  new ReadableStream().getReader().releaseLock();
  fetch('data:,').then((r) => r.arrayBuffer()).catch(() => undefined);
}

/**
 * Asks the model for a short title for a conversation. Never throws: on any failure (unknown model,
 * HTTP error, timeout, empty answer) it returns `undefined` and the caller uses the first user message
 * cut short instead.
 */
export async function generateTitle(
  registry: ModelRegistry,
  modelId: string,
  firstUserMessage: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    const timeout = AbortSignal.timeout(TITLE_TIMEOUT_MS);
    const { text } = await generateText({
      model: registry.languageModel(modelId),
      system: TITLE_SYSTEM_PROMPT,
      prompt: firstUserMessage.slice(0, MAX_PROMPT_CHARS),
      maxRetries: 0,
      abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    return cleanTitle(text);
  } catch {
    return undefined;
  }
}
