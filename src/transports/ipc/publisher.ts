import type { Publisher } from 'zeromq';
import type { Logger } from '../../core/logger.js';
import { encodePublication, rfc3339Nano, type PandoTopic, type TopicPayload } from '../../protocol/pando-bus.js';
import { SendQueue } from './send-queue.js';

/**
 * Publishes Pando envelopes on the PUB socket. `publish` never waits: a PUB send queues at once or, past
 * the high-water mark, drops the frame for that subscriber (ZeroMQ's own bound), so a slow or absent
 * subscriber cannot slow the agent loop. What a subscriber misses it recovers with state.sync and
 * message.list, as Pando's clients do.
 */
export class BusPublisher {
  private sent = 0;
  private readonly queue: SendQueue<string>;

  constructor(
    private readonly socket: Publisher,
    readonly instanceId: string,
    private readonly logger: Logger,
    queueLimit = 10_000,
  ) {
    this.queue = new SendQueue((frame) => socket.send(frame), queueLimit, (err, failures) => {
      // One line per burst, not per frame: a failing socket would otherwise flood the log.
      if (failures === 1 || failures % 1000 === 0) this.logger.warn({ err, failures }, 'bus: publish failed');
    });
  }

  publish<T extends PandoTopic>(topic: T, payload: TopicPayload<T>, sessionId?: string): void {
    if (this.socket.closed) return;
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

  get stats(): { sent: number; failures: number; dropped: number; queued: number } {
    return { sent: this.sent, failures: this.queue.failed, dropped: this.queue.dropped, queued: this.queue.depth };
  }
}
