import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../store/index.js';
import { sameDigest } from '../../protocol/digest.js';
import { hashRunnerToken, newRunnerToken, staticTokenVerifier, storeTokenVerifier } from './tokens.js';

describe('runner tokens', () => {
  it('hashes, compares and verifies tokens; revoked and unknown ones are refused', async () => {
    const token = newRunnerToken();
    expect(token).toMatch(/^trt_[A-Za-z0-9_-]{32}$/);
    expect(sameDigest(hashRunnerToken(token), hashRunnerToken(token))).toBe(true);
    expect(sameDigest(hashRunnerToken(token), hashRunnerToken('other'))).toBe(false);
    expect(sameDigest('', '')).toBe(false);
    const record = { id: 'r1', name: 'n', labels: ['a'] };
    const stat = staticTokenVerifier([{ hash: hashRunnerToken(token), record }]);
    expect(await stat(token)).toEqual(record);
    expect(await stat('nope')).toBeNull();

    const store = openSqliteStore(':memory:');
    try {
      const tokens = store.runnerTokens();
      await tokens.createRunnerToken({ ...record, token_hash: hashRunnerToken(token), created_at: new Date().toISOString() });
      const verify = storeTokenVerifier(tokens);
      expect(await verify(token)).toEqual(record);
      expect(await verify('')).toBeNull();
      await tokens.revokeRunnerToken('r1', new Date().toISOString());
      expect(await verify(token)).toBeNull();
    } finally {
      await store.close();
    }
  });
});
