import { createHash, randomBytes } from 'node:crypto';
import { sameDigest } from '../../protocol/digest.js';
import type { RunnerTokenStore } from '../../store/runner-tokens.js';

/** A runner token as the gateway sees it after lookup: never the token itself, only what it grants. */
export interface RunnerTokenRecord {
  id: string;
  name: string;
  labels: string[];
}

/** Looks a presented token up; `null` for unknown or revoked tokens. Implementations compare hashes. */
export type RunnerTokenVerifier = (token: string) => Promise<RunnerTokenRecord | null>;

/** Tokens are stored as their sha256, never in clear. */
export function hashRunnerToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh token, shown once at creation. */
export function newRunnerToken(): string {
  return `trt_${randomBytes(24).toString('base64url')}`;
}

/**
 * A verifier over an in-memory list of `{hash, record}` (config-defined tokens, tests); a Store-backed one
 * has the same shape. Every entry is compared, so the time taken does not depend on which one matched.
 */
export function staticTokenVerifier(entries: readonly { hash: string; record: RunnerTokenRecord; revoked?: boolean }[]): RunnerTokenVerifier {
  return async (token) => {
    const hash = hashRunnerToken(token);
    let found: RunnerTokenRecord | null = null;
    for (const entry of entries) {
      if (sameDigest(entry.hash, hash) && !entry.revoked) found = entry.record;
    }
    return found;
  };
}

/** Verifies against a `RunnerTokenStore`, looked up by the token's sha256 (a lookup by hash leaks nothing usable about the token). */
export function storeTokenVerifier(store: Pick<RunnerTokenStore, 'findRunnerTokenByHash'>): RunnerTokenVerifier {
  return async (token) => {
    if (token === '') return null;
    const row = await store.findRunnerTokenByHash(hashRunnerToken(token));
    return row ? { id: row.id, name: row.name, labels: row.labels } : null;
  };
}
