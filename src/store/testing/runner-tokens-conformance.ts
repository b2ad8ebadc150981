import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import type { RunnerTokenStore } from '../runner-tokens.js';

const hash = (c: string) => c.repeat(64).slice(0, 64);

/** The behaviour every RunnerTokenStore must show; `open` returns a fresh, empty one per test. */
export function describeRunnerTokenConformance(name: string, open: () => Promise<{ tokens: RunnerTokenStore; close(): Promise<void> }>): void {
  describe(`RunnerTokenStore conformance: ${name}`, () => {
    let handle: { tokens: RunnerTokenStore; close(): Promise<void> };
    beforeEach(async () => {
      handle = await open();
    });
    afterEach(async () => {
      await handle.close();
    });

    it('creates, finds by hash, lists without hashes, and revokes', async () => {
      const t = handle.tokens;
      await t.createRunnerToken({ id: 'a', name: 'build', labels: ['linux', 'gpu'], token_hash: hash('a'), created_at: '2026-01-01T00:00:00.000Z' });
      await t.createRunnerToken({ id: 'b', name: 'mac', labels: [], token_hash: hash('b'), created_at: '2026-01-02T00:00:00.000Z' });
      expect(await t.findRunnerTokenByHash(hash('a'))).toEqual({ id: 'a', name: 'build', labels: ['linux', 'gpu'], created_at: '2026-01-01T00:00:00.000Z', revoked_at: null });
      expect(await t.findRunnerTokenByHash(hash('c'))).toBeUndefined();
      const listed = await t.listRunnerTokens();
      expect(listed.map((r) => r.id)).toEqual(['a', 'b']);
      expect(JSON.stringify(listed)).not.toContain(hash('a'));
      expect(await t.revokeRunnerToken('a', '2026-01-03T00:00:00.000Z')).toBe(true);
      expect(await t.revokeRunnerToken('a', '2026-01-04T00:00:00.000Z')).toBe(false);
      expect(await t.revokeRunnerToken('nope', '2026-01-04T00:00:00.000Z')).toBe(false);
      expect(await t.findRunnerTokenByHash(hash('a'))).toBeUndefined();
      expect((await t.listRunnerTokens())[0]?.revoked_at).toBe('2026-01-03T00:00:00.000Z');
    });

    it('refuses a duplicate id or hash with conflict, changing nothing', async () => {
      const t = handle.tokens;
      await t.createRunnerToken({ id: 'a', name: 'x', labels: [], token_hash: hash('a'), created_at: '2026-01-01T00:00:00.000Z' });
      for (const dup of [{ id: 'a', token_hash: hash('z') }, { id: 'z', token_hash: hash('a') }]) {
        const err = await t.createRunnerToken({ name: 'y', labels: [], created_at: '2026-01-01T00:00:00.000Z', ...dup }).catch((e: unknown) => e);
        expect(isTowerError(err) && err.code === 'conflict').toBe(true);
      }
      expect((await t.listRunnerTokens()).map((r) => [r.id, r.name])).toEqual([['a', 'x']]);
    });
  });
}
