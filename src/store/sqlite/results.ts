import { storedEventOf } from '../../protocol/events.js';
import type { CommitEntry, CommitResult } from '../types.js';
import type { Placement } from './commit.js';

// Apart from commit.ts, which the writer thread loads: building events needs protocol/events (zod),
// and only the main thread builds them.

/** The store's results for a batch, from its entries and where they landed. */
export function resultsOf(entries: readonly CommitEntry[], placed: Placement): CommitResult[] {
  const results = new Array<CommitResult>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as CommitEntry;
    const result: CommitResult = { event: storedEventOf(e.session_id, placed.seqs[i] as number, e.type, e.data, e.timestamp) };
    const index = placed.messages[i] as number;
    if (index >= 0) result.message_index = index;
    results[i] = result;
  }
  return results;
}
