import { describe, expect, it } from 'vitest';
import { seededRandom, shuffle, testSeed } from './random.js';

describe('seededRandom', () => {
  it('replays the same sequence for the same seed, in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(first[0]);
  });
});

describe('shuffle', () => {
  it('keeps the items and leaves the input alone', () => {
    const input = [1, 2, 3, 4, 5];
    const out = shuffle(input, seededRandom(1));
    expect([...out].sort()).toEqual(input);
    expect(input).toEqual([1, 2, 3, 4, 5]);
  });

  it('is unbiased: each of the 6 orders of 3 items comes up about equally often', () => {
    const random = seededRandom(7);
    const counts = new Map<string, number>();
    const runs = 60_000;
    for (let i = 0; i < runs; i++) {
      const key = shuffle(['a', 'b', 'c'], random).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // Expected 10 000 each; a biased shuffle (sort with a random comparator) is off by thousands.
    for (const count of counts.values()) expect(Math.abs(count - runs / 6)).toBeLessThan(400);
  });
});

describe('testSeed', () => {
  it('takes TOWER_TEST_SEED when it is a number', () => {
    expect(testSeed({ TOWER_TEST_SEED: '1234' })).toBe(1234);
    expect(Number.isInteger(testSeed({ TOWER_TEST_SEED: 'junk' }))).toBe(true);
  });
});
