import type { StoredEvent } from '../protocol/events.js';

export type BusListener = (event: StoredEvent) => void;

/**
 * Live fan-out of committed events. It only ever carries events that are already durable in the store;
 * a listener that misses one (overflow, a lossy cluster bus) recovers it from the store by seq.
 */
export interface Bus {
  /** Publishes committed events, in seq order per session. */
  publish(events: readonly StoredEvent[]): void;
  /** Calls `listener` for each event of the session published from now on. Returns the unsubscribe. */
  subscribe(sessionId: string, listener: BusListener): () => void;
  close(): Promise<void>;
}
