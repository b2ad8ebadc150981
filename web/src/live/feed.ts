import type { WireEvent } from '../api/types.js';

/** The connection's state as the page shows it: "reconnecting" is visible, never silent. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface SessionFeedOptions {
  /** Where to resume after a drop: the transcript's highest contiguous seq. */
  from(): number;
  onEvents(events: WireEvent[]): void;
  onState(state: LiveState): void;
}

/**
 * Live session events behind one small interface. The transport (SSE here; the hub's `/hub/ws` with
 * `from_seq` where the server has it) only decides how events arrive: the transcript fold makes any
 * overlap or replay harmless, so resuming from `from()` can never duplicate or lose a line.
 */
export interface LiveFeed {
  session(id: string, opts: SessionFeedOptions): () => void;
}
