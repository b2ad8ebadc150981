import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sameDigest } from './digest.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('sameDigest', () => {
  it('is true for the same digest only', () => {
    expect(sameDigest(sha('a'), sha('a'))).toBe(true);
    expect(sameDigest(sha('a'), sha('b'))).toBe(false);
    expect(sameDigest(sha('a'), sha('a').toUpperCase())).toBe(false);
  });

  it('never equals across lengths, for empty digests, or where hex decoding would stop early', () => {
    expect(sameDigest(sha('a'), sha('a').slice(0, 62))).toBe(false);
    expect(sameDigest('', '')).toBe(false);
    expect(sameDigest('ab', 'abzz')).toBe(false);
    expect(sameDigest(`${sha('a')}zz`, `${sha('a')}yy`)).toBe(false);
  });
});
