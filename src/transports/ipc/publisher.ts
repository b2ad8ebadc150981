import type { Publisher } from 'zeromq';
import type { Logger } from '../../core/logger.js';
import { encodePublication, rfc3339Nano, type PandoTopic, type TopicPayload } from '../../protocol/pando-bus.js';

/**
 * Publishes Pando envelopes on the PUB socket. `publish` never waits: a PUB send queues at once or, past
 * the high-water mark, drops the frame for that subscriber (ZeroMQ's own bound), so a slow or absent
 * subscriber cannot slow the agent loop. What a subscriber misses it recovers with state.sync and
 * message.list, as Pando's clients do.
 */
export class BusPublisher {
  private sent = 0;
  private failures = 0;

  constructor(
    private readonly socket: Publisher,
    readonly instanceId: string,
    private readonly logger: Logger,
  ) {}

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
    this.socket.send(frame).catch((err: unknown) => {
      this.failures += 1;
      // One line per burst, not per frame: a failing socket would otherwise flood the log.
      if (this.failures === 1 || this.failures % 1000 === 0) this.logger.warn({ err, failures: this.failures }, 'bus: publish failed');
    });
  }

  /** Sends and waits until the frame is queued (for the last word before closing). */
  async publishNow<T extends PandoTopic>(topic: T, payload: TopicPayload<T>): Promise<void> {
    if (this.socket.closed) return;
    const frame = encodePublication({ instanceId: this.instanceId, projectId: '', topic, timestamp: rfc3339Nano(), payload });
    await this.socket.send(frame).catch((err: unknown) => this.logger.warn({ err }, 'bus: publish failed'));
  }

  get stats(): { sent: number; failures: number } {
    return { sent: this.sent, failures: this.failures };
  }
}
