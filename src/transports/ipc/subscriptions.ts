import type { XPublisher } from 'zeromq';
import type { Logger } from '../../core/logger.js';

const SUBSCRIBE = 1;
const UNSUBSCRIBE = 0;

/**
 * The topic prefixes some subscriber of the bus wants, as the XPUB socket reports them: a message
 * `\x01prefix` when the first subscriber of a prefix arrives and `\x00prefix` when its last one leaves
 * (or disconnects). libzmq filters duplicates by default (verbosity off), so the set is exact without
 * counting peers. A publication no prefix matches would be dropped by the socket anyway; knowing it
 * here spares building the frame (the JSON, the timestamp, the send) for every token of every session
 * while nobody watches. Anything else a peer sends on the PUB side is junk and changes nothing.
 */
export class Subscriptions {
  private readonly prefixes = new Set<string>();
  private readonly answers = new Map<string, boolean>();
  private readonly listeners = new Set<() => void>();

  /** True when some subscriber's prefix matches `topic` (`""` matches every topic). */
  wants(topic: string): boolean {
    let answer = this.answers.get(topic);
    if (answer === undefined) {
      answer = false;
      for (const p of this.prefixes) {
        if (topic.startsWith(p)) {
          answer = true;
          break;
        }
      }
      this.answers.set(topic, answer);
    }
    return answer;
  }

  /** Applies one message read from the XPUB socket; false for anything that is no (un)subscription. */
  apply(message: Buffer): boolean {
    if (message.length === 0 || (message[0] !== SUBSCRIBE && message[0] !== UNSUBSCRIBE)) return false;
    const prefix = message.subarray(1).toString('latin1');
    if (message[0] === SUBSCRIBE) this.prefixes.add(prefix);
    else this.prefixes.delete(prefix);
    this.answers.clear();
    for (const listener of this.listeners) listener();
    return true;
  }

  /** Calls `listener` after every change of the set (a first subscriber of a prefix, a last one leaving). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.prefixes.size;
  }
}

/** Reads the XPUB socket's subscription messages into a `Subscriptions` until the socket closes. */
export function watchSubscriptions(socket: XPublisher, logger: Logger): { subscriptions: Subscriptions; done: Promise<void> } {
  const subscriptions = new Subscriptions();
  const done = (async () => {
    try {
      for await (const frames of socket) {
        const first = frames[0];
        if (frames.length !== 1 || !first || !subscriptions.apply(first)) logger.debug({ frames: frames.length }, 'bus: ignored a non-subscription message on the PUB socket');
      }
    } catch (err) {
      if (!socket.closed) logger.warn({ err }, 'bus: stopped reading subscriptions; publishing every topic from now on');
      subscriptions.apply(Buffer.from([SUBSCRIBE]));
    }
  })();
  return { subscriptions, done };
}
