import type { TowerEvent } from '../index.js';

/**
 * Checks `condition` after each macrotask turn until it holds, for a state the test cannot await
 * directly (a request the server has received); throws once 500 turns pass without it.
 */
export async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await condition()); tries++) {
    if (tries > 500) throw new Error('condition not met');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The events of `iterable` up to and including the first one `stop` accepts (then the iteration ends). */
export async function collect(iterable: AsyncIterable<TowerEvent>, stop: (event: TowerEvent) => boolean): Promise<TowerEvent[]> {
  const out: TowerEvent[] = [];
  for await (const event of iterable) {
    out.push(event);
    if (stop(event)) break;
  }
  return out;
}
