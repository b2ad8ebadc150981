import { TowerError } from '../protocol/errors.js';
import type { StoredMessage } from '../protocol/conversation.js';
import type { StoredEvent } from '../protocol/events.js';

/**
 * Import data must be a well-formed log: messages 0..n-1 and strictly ascending positive seqs. Shared by
 * every backend's `importSession`, so they refuse the same imports with the same errors.
 */
export function checkImport(messages: readonly StoredMessage[], events: readonly StoredEvent[]): void {
  messages.forEach((m, i) => {
    if (m.index !== i) throw new TowerError('invalid_request', `message at position ${i} has index ${m.index}`);
  });
  let prev = 0;
  for (const e of events) {
    if (!Number.isInteger(e.seq) || e.seq <= prev) {
      throw new TowerError('invalid_request', `event seqs must be positive and ascending (got ${e.seq} after ${prev})`);
    }
    prev = e.seq;
  }
}
