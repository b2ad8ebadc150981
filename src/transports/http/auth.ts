import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { TowerError } from '../../protocol/errors.js';
import { errorResponse } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-token check. Both sides are hashed first so the comparison is constant-time whatever the
 * lengths (timingSafeEqual alone leaks the length by throwing on a mismatch).
 */
export function tokenMatches(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

export function bearerAuth(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (!token) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !tokenMatches(token, match[1].trim())) {
      c.header('WWW-Authenticate', 'Bearer');
      return errorResponse(c, new TowerError('unauthorized', 'Missing or wrong bearer token'));
    }
    return next();
  };
}
