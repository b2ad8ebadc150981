import type { XPublisher } from 'zeromq';

/** Whether any subscriber would receive a frame of `topic` (a PUB frame is `topic\0envelope`). */
export interface TopicInterest {
  wants(topic: string): boolean;
}

/** For a socket that does not say what its peers subscribed to: every topic may be wanted. */
export const EVERY_TOPIC: TopicInterest = { wants: () => true };

/**
 * What the bus's subscribers subscribed to, read from the XPUB socket's subscription messages (a byte 1
 * or 0, then the prefix). In its default mode XPUB reports each prefix once, when the first peer
 * subscribes to it, and unsubscribes it when the last one leaves or disconnects, so the set is exactly
 * what ZeroMQ filters on. A frame no prefix matches would be dropped by ZeroMQ for every peer: the
 * publisher skips building it (with nobody on the bus, that is every event's `llm.token`). A prefix that
 * reaches past the topic into the envelope cannot be decided without the frame, so it counts as wanted.
 *
 * A subscription counts from the moment this loop reads it, a moment after ZeroMQ applied it: frames in
 * between are lost to that subscriber, as frames sent before a subscription lands always are (Pando's
 * clients resync with state.sync; tests wait with a probe until one arrives).
 */
export class SubscriptionInterest implements TopicInterest {
  private readonly prefixes = new Map<string, Buffer>();
  /** Per topic, whether a prefix matches; cleared when the prefixes change. */
  private readonly decided = new Map<string, boolean>();
  private readonly listeners = new Set<() => void>();
  readonly done: Promise<void>;

  constructor(socket: XPublisher) {
    this.done = this.read(socket);
  }

  wants(topic: string): boolean {
    if (this.prefixes.size === 0) return false;
    let wanted = this.decided.get(topic);
    if (wanted === undefined) {
      const head = Buffer.from(`${topic}\0`);
      wanted = false;
      for (const prefix of this.prefixes.values()) {
        const n = Math.min(prefix.length, head.length);
        if (prefix.subarray(0, n).equals(head.subarray(0, n))) {
          wanted = true;
          break;
        }
      }
      this.decided.set(topic, wanted);
    }
    return wanted;
  }

  /** Applies one subscription message; anything else (no 0/1 flag) changes nothing. */
  apply(message: Buffer): void {
    const flag = message[0];
    if (flag !== 0 && flag !== 1) return;
    const prefix = message.subarray(1);
    const key = prefix.toString('latin1');
    if (flag === 1) this.prefixes.set(key, Buffer.from(prefix));
    else this.prefixes.delete(key);
    this.decided.clear();
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every subscription message (tests wait on it); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async read(socket: XPublisher): Promise<void> {
    try {
      for await (const [message] of socket) if (message) this.apply(message);
    } catch {
      // The socket closed: nothing more to learn.
    }
  }
}
