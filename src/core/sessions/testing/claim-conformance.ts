import { describe, expect, it } from 'vitest';
import type { SessionClaim } from '../claim.js';

/**
 * What every SessionClaim must do. `open` returns handles on one shared claim space: two handles model
 * two nodes (the in-process implementation returns the same object twice).
 */
export function describeSessionClaimConformance(name: string, open: () => Promise<[SessionClaim, SessionClaim]>): void {
  describe(`SessionClaim conformance: ${name}`, () => {
    it('grants a free session to one owner and refuses others until it is released', async () => {
      const [a, b] = await open();
      expect(await a.claim('s', 'turn-1')).toBe(true);
      expect(await a.claim('s', 'turn-1')).toBe(true);
      expect(await b.claim('s', 'turn-2')).toBe(false);
      await a.release('s', 'turn-1');
      expect(await b.claim('s', 'turn-2')).toBe(true);
      await b.release('s', 'turn-2');
    });

    it('ignores a release by someone who does not hold the claim', async () => {
      const [a, b] = await open();
      expect(await a.claim('s', 'turn-1')).toBe(true);
      await b.release('s', 'turn-2');
      expect(await b.claim('s', 'turn-2')).toBe(false);
      await a.release('s', 'turn-1');
    });

    it('lets exactly one of many concurrent claimants win, per session', async () => {
      const [a, b] = await open();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(`s${i % 4}`, `owner-${i}`)),
      );
      for (let s = 0; s < 4; s++) expect(results.filter((r, i) => r && i % 4 === s)).toHaveLength(1);
    });

    it('keeps sessions independent', async () => {
      const [a, b] = await open();
      expect(await a.claim('x', 'o1')).toBe(true);
      expect(await b.claim('y', 'o2')).toBe(true);
      await a.release('x', 'o1');
      await b.release('y', 'o2');
    });
  });
}
