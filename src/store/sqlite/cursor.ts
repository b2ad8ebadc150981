import { TowerError } from '../../protocol/errors.js';

/** Position in the newest-first session listing: the last row of the previous page. */
export interface SessionCursor {
  created_at: string;
  id: string;
}

/**
 * Cursors are opaque to clients: base64url of a JSON pair, so ids and timestamps containing any
 * character round-trip and nobody is tempted to build one by hand.
 */
export function encodeCursor(c: SessionCursor): string {
  return Buffer.from(JSON.stringify([c.created_at, c.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): SessionCursor {
  const invalid = () => new TowerError('invalid_request', 'invalid cursor');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string'
  ) {
    throw invalid();
  }
  return { created_at: parsed[0], id: parsed[1] };
}
