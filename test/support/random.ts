/**
 * A seeded PRNG (mulberry32: 32-bit state, full period, fine for tests) so a randomized test can be
 * replayed: the seed is printed on failure and `TOWER_TEST_SEED` sets it.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates: every permutation equally likely (unlike `sort(() => random() - 0.5)`). Returns a copy. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The seed for this run: `TOWER_TEST_SEED` when set, else a fresh one (printed by the test on failure). */
export function testSeed(env: Record<string, string | undefined> = process.env): number {
  const given = env.TOWER_TEST_SEED;
  if (given !== undefined && /^\d+$/.test(given)) return Number(given) >>> 0;
  return Math.floor(Math.random() * 2 ** 32);
}
