import pino, { type Logger } from 'pino';
import type { StoredEvent } from '../protocol/events.js';
import type { Bus, BusListener, DataJson } from './types.js';

/** One subscription: its own object, so the same function subscribed twice is two subscriptions. */
interface Entry {
  readonly listener: BusListener;
  /** Cleared by its unsubscribe: a publish under way skips it from then on. */
  live: boolean;
}

/**
 * The in-process Bus: listeners run synchronously, in registration order, inside `publish`. Listeners
 * must be cheap (the EventLog's only enqueues), because a slow one delays every later one.
 */
export class MemoryBus implements Bus {
  /**
   * Each session's subscriptions, an array replaced (never changed in place) by every subscribe and
   * unsubscribe: a publish walks it by index (no iterator object per event) while it may change.
   */
  private readonly listeners = new Map<string, readonly Entry[]>();
  /** Bumped by every subscribe and unsubscribe: a publish under way looks its session up again. */
  private changes = 0;
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
    let sessionId: string | undefined;
    let entries: readonly Entry[] | undefined;
    let seen = -1;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as StoredEvent;
      // One lookup per run of a session's events (a commit is one session's), again after a listener
      // subscribed or unsubscribed: one added mid-publish gets the events after the current one.
      if (event.session_id !== sessionId || seen !== this.changes) {
        sessionId = event.session_id;
        seen = this.changes;
        entries = this.listeners.get(sessionId);
      }
      if (entries === undefined) continue;
      const json = dataJson?.[i];
      for (let j = 0; j < entries.length; j++) {
        const entry = entries[j] as Entry;
        if (!entry.live) continue;
        try {
          entry.listener(event, json);
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
    const entry: Entry = { listener, live: true };
    this.listeners.set(sessionId, [...(this.listeners.get(sessionId) ?? []), entry]);
    this.changes++;
    return () => {
      if (!entry.live) return;
      entry.live = false;
      this.changes++;
      const rest = (this.listeners.get(sessionId) ?? []).filter((e) => e !== entry);
      if (rest.length === 0) this.listeners.delete(sessionId);
      else this.listeners.set(sessionId, rest);
    };
  }

  /** Number of live listeners of a session (for diagnostics and leak tests). */
  listenerCount(sessionId: string): number {
    return this.listeners.get(sessionId)?.length ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}
