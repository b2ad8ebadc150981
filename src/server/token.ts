import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The token Tower makes for itself when it must not run open (a non-loopback bind with no token given).
 * Kept in the data dir, readable by the owner only, and reused across restarts so clients keep working.
 */
export function ensureToken(dataDir: string): { token: string; file: string; created: boolean } {
  const file = path.join(dataDir, 'token');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 16) return { token: existing, file, created: false };
  } catch {
    // No token yet: make one below.
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file, created: true };
}
