import { describe, expect, it } from 'vitest';
import { sortYielding } from './yielder.js';

describe('sortYielding', () => {
  it('sorts large arrays like Array.prototype.sort, stably', async () => {
    const items = Array.from({ length: 50_000 }, (_, i) => ({ key: (i * 7919) % 1000, i }));
    const expected = [...items].sort((a, b) => a.key - b.key);
    const sorted = await sortYielding(items, (a, b) => a.key - b.key);
    expect(sorted).toEqual(expected);
  });

  it('lets timers run while sorting a big array', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 0);
    const items = Array.from({ length: 400_000 }, (_, i) => `name-${(i * 104729) % 400_000}`);
    await sortYielding(items, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
