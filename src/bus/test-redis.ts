import { randomBytes } from 'node:crypto';

/** How tests find Redis: `TOWER_TEST_REDIS_URL`, else the local server. A failure, never a silent skip. */
export const TEST_REDIS_URL = process.env.TOWER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A channel prefix unique to this run, so parallel runs on one Redis never hear each other. */
export function uniquePrefix(tag: string): string {
  return `tower-test-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
