import type { Logger } from '../../core/logger.js';
import { encodePublication, rfc3339Nano, type PandoTopic, type TopicPayload } from '../../protocol/pando-bus.js';
import { EVERY_TOPIC, type TopicInterest } from './interest.js';
import { SendQueue } from './send-queue.js';

/** What the publisher needs of its socket (a ZeroMQ PUB or XPUB). */
export interface PubSocket {
  readonly closed: boolean;
  send(frame: string): Promise<void>;
}

/**
 * Publishes Pando envelopes on the PUB socket. `publish` never waits: a PUB send queues at once or, past
 * the high-water mark, drops the frame for that subscriber (ZeroMQ's own bound), so a slow or absent
 * subscriber cannot slow the agent loop. What a subscriber misses it recovers with state.sync and
 * message.list, as Pando's clients do. A topic no subscriber asked for (`interest`) is not encoded or
 * sent at all: ZeroMQ would drop it for every peer anyway.
 */
export class BusPublisher {
  private sent = 0;
  private skipped = 0;
  private readonly queue: SendQueue<string>;

  constructor(
    private readonly socket: PubSocket,
    readonly instanceId: string,
    private readonly logger: Logger,
    queueLimit = 10_000,
    private readonly interest: TopicInterest = EVERY_TOPIC,
  ) {
    this.queue = new SendQueue((frame) => socket.send(frame), queueLimit, (err, failures) => {
      // One line per burst, not per frame: a failing socket would otherwise flood the log.
      if (failures === 1 || failures % 1000 === 0) this.logger.warn({ err, failures }, 'bus: publish failed');
    });
  }

  /** Whether a frame of `topic` would reach anyone (callers on the per-event path skip building it). */
  wants(topic: PandoTopic): boolean {
    return !this.socket.closed && this.interest.wants(topic);
  }

  publish<T extends PandoTopic>(topic: T, payload: TopicPayload<T>, sessionId?: string): void {
    if (this.socket.closed) return;
    if (!this.interest.wants(topic)) {
      this.skipped += 1;
      return;
    }
    const frame = encodePublication({
      instanceId: this.instanceId,
      projectId: '',
      ...(sessionId ? { sessionId } : {}),
      topic,
      timestamp: rfc3339Nano(),
      payload,
    });
    this.sent += 1;
    if (!this.queue.push(frame) && (this.queue.dropped === 1 || this.queue.dropped % 10_000 === 0)) {
      this.logger.warn({ dropped: this.queue.dropped }, 'bus: publish queue full, frames dropped (subscribers resync with state.sync)');
    }
  }

  /** Sends and waits until the frame is queued (for the last word before closing). */
  async publishNow<T extends PandoTopic>(topic: T, payload: TopicPayload<T>): Promise<void> {
    this.publish(topic, payload);
    await this.queue.drained();
  }

  /** `skipped`: frames not built because no subscriber's prefix matched their topic. */
  get stats(): { sent: number; skipped: number; failures: number; dropped: number; queued: number } {
    return { sent: this.sent, skipped: this.skipped, failures: this.queue.failed, dropped: this.queue.dropped, queued: this.queue.depth };
  }
}
