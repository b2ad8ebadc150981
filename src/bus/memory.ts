import pino, { type Logger } from 'pino';
import type { StoredEvent } from '../protocol/events.js';
import type { Bus, BusListener, DataJson } from './types.js';

/**
 * The in-process Bus: listeners run synchronously, in registration order, inside `publish`. Listeners
 * must be cheap (the EventLog's only enqueues), because a slow one delays every later one.
 */
export class MemoryBus implements Bus {
  private readonly listeners = new Map<string, Set<BusListener>>();
  private readonly logger: Logger;
  private closed = false;

  constructor(opts: { logger?: Logger } = {}) {
    this.logger = opts.logger ?? pino({ level: 'silent' });
  }

  /** Delivers before returning (the promise is already settled): in-process there is nothing to wait for. */
  publish(events: readonly StoredEvent[], dataJson?: DataJson): Promise<void> {
    this.deliver(events, dataJson);
    return Promise.resolve();
  }

  private deliver(events: readonly StoredEvent[], dataJson: DataJson | undefined): void {
    if (this.closed) return;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as StoredEvent;
      const json = dataJson?.[i];
      const set = this.listeners.get(event.session_id);
      if (!set) continue;
      // Iterating the live Set: a listener removed mid-publish is skipped, one added mid-publish also
      // sees this event. Both are fine for subscribers that de-duplicate by seq.
      for (const listener of set) {
        try {
          listener(event, json);
        } catch (err) {
          this.logger.error({ err, session_id: event.session_id, seq: event.seq }, 'bus listener threw');
        }
      }
    }
  }

  /** Active before it returns; the promise only carries the unsubscribe. */
  subscribe(sessionId: string, listener: BusListener): Promise<() => void> {
    return Promise.resolve(this.subscribeNow(sessionId, listener));
  }

  private subscribeNow(sessionId: string, listener: BusListener): () => void {
    if (this.closed) return () => {};
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    // Wrapping makes each subscription distinct even when the same function subscribes twice.
    const entry: BusListener = (event, json) => listener(event, json);
    set.add(entry);
    return () => {
      const current = this.listeners.get(sessionId);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Number of live listeners of a session (for diagnostics and leak tests). */
  listenerCount(sessionId: string): number {
    return this.listeners.get(sessionId)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
