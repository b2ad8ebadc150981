import type { EventSubscription, SubscriptionStats } from '../event-log/index.js';

interface TransportCounts {
  open: Set<{ readonly stats: SubscriptionStats }>;
  /** Store reads and overflows of subscriptions that have ended. */
  closedReads: number;
  closedOverflows: number;
}

/**
 * Live subscribers per transport (SSE, hub, bus…) and their store catch-up reads. A transport hands each
 * subscription over when it opens it; the returned view untracks it on `close()`.
 */
export class SubscriberTracker {
  private readonly byTransport = new Map<string, TransportCounts>();

  track(transport: string, sub: EventSubscription): EventSubscription {
    const untrack = this.add(transport, sub);
    return {
      [Symbol.asyncIterator]: () => sub[Symbol.asyncIterator](),
      close: () => {
        sub.close();
        untrack();
      },
      get cursor() {
        return sub.cursor;
      },
      get stats() {
        return sub.stats;
      },
    };
  }

  /**
   * Counts a (push) subscription as open until the returned untrack is called (idempotent), then adds
   * its reads and overflows to the transport's totals.
   */
  add(transport: string, sub: { readonly stats: SubscriptionStats }): () => void {
    const counts = this.counts(transport);
    counts.open.add(sub);
    let tracked = true;
    return (): void => {
      if (!tracked) return;
      tracked = false;
      counts.open.delete(sub);
      counts.closedReads += sub.stats.storeReads;
      counts.closedOverflows += sub.stats.overflows;
    };
  }

  /** Per transport: open subscriptions, store reads and overflows so far (ended ones included). */
  snapshot(): Array<{ transport: string; open: number; storeReads: number; overflows: number }> {
    return [...this.byTransport].map(([transport, c]) => {
      let storeReads = c.closedReads;
      let overflows = c.closedOverflows;
      for (const sub of c.open) {
        storeReads += sub.stats.storeReads;
        overflows += sub.stats.overflows;
      }
      return { transport, open: c.open.size, storeReads, overflows };
    });
  }

  private counts(transport: string): TransportCounts {
    let c = this.byTransport.get(transport);
    if (!c) this.byTransport.set(transport, (c = { open: new Set(), closedReads: 0, closedOverflows: 0 }));
    return c;
  }
}
