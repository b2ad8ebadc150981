import { timingSafeEqual } from 'node:crypto';

/**
 * Constant-time equality of two stored digests (hex sha256 of runner tokens): the one compare the token
 * verifiers and the stores use. The strings' bytes are compared as they are, not hex-decoded (decoding
 * stops at the first non-hex character, which would make `ab` equal `abzz`); different lengths and
 * empty digests are unequal, and only the length is learnt from the time taken. Not re-exported by the
 * protocol index (it uses `node:crypto`; the SDK and the dashboard do not need it).
 */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
