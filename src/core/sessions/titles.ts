import type { TitleGenerator } from './deps.js';

const MAX_TITLE = 60;

/** The title used when the model gives none: the first user message, on one line, cut short. */
export function fallbackTitle(firstMessage: string): string {
  const line = firstMessage.replace(/\s+/g, ' ').trim();
  if (line.length <= MAX_TITLE) return line || 'Untitled session';
  const cut = line.slice(0, MAX_TITLE - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_TITLE / 2 ? cut.slice(0, space) : cut}…`;
}

/** Title requests in flight at once per process: many first turns ending together queue behind these. */
export const TITLE_CONCURRENCY = 4;

/**
 * The titler, at most `limit` calls in flight; the rest wait in order. A waiter whose signal aborts
 * leaves the queue and rejects with the signal's reason, without calling the titler.
 */
export function limitTitler(titler: TitleGenerator, limit = TITLE_CONCURRENCY): TitleGenerator {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    running--;
    const next = waiting.shift();
    if (next) next();
  };
  return async (model, firstMessage, signal) => {
    if (running >= limit) {
      await new Promise<void>((resolve, reject) => {
        const start = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const at = waiting.indexOf(start);
          if (at >= 0) waiting.splice(at, 1);
          reject(signal.reason);
        };
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.push(start);
      });
    }
    running++;
    try {
      return await titler(model, firstMessage, signal);
    } finally {
      release();
    }
  };
}
