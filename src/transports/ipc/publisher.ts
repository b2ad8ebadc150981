import type { Logger } from '../../core/logger.js';
import { rfc3339Nano, type PandoTopic, type TopicPayload } from '../../protocol/pando-bus.js';
import { SendQueue } from './send-queue.js';

/** What the publisher needs of the PUB (or XPUB) socket. */
export interface PubSocket {
  readonly closed: boolean;
  send(frame: string): Promise<void>;
}

/** Which topics some subscriber wants (`Subscriptions`, from the XPUB socket); absent: every topic. */
export interface TopicInterest {
  wants(topic: string): boolean;
  /** Calls `listener` whenever what `wants` answers may have changed. */
  onChange?(listener: () => void): () => void;
}

/**
 * Publishes Pando envelopes on the PUB socket. `publish` never waits: a PUB send queues at once or, past
 * the high-water mark, drops the frame for that subscriber (ZeroMQ's own bound), so a slow or absent
 * subscriber cannot slow the agent loop. What a subscriber misses it recovers with state.sync and
 * message.list, as Pando's clients do. A topic no subscriber wants costs nothing: the socket would drop
 * the frame, so it is never built.
 */
export class BusPublisher {
  private sent = 0;
  private readonly queue: SendQueue<string>;
  private readonly frames: FrameBuilder;

  constructor(
    private readonly socket: PubSocket,
    readonly instanceId: string,
    private readonly logger: Logger,
    queueLimit = 10_000,
    private readonly interest?: TopicInterest,
  ) {
    this.frames = new FrameBuilder(instanceId);
    this.queue = new SendQueue((frame) => socket.send(frame), queueLimit, (err, failures) => {
      // One line per burst, not per frame: a failing socket would otherwise flood the log.
      if (failures === 1 || failures % 1000 === 0) this.logger.warn({ err, failures }, 'bus: publish failed');
    });
  }

  /** False when a publication of `topic` would reach nobody (callers may skip building its payload). */
  wants(topic: PandoTopic): boolean {
    return !this.socket.closed && (!this.interest || this.interest.wants(topic));
  }

  /** Calls `listener` when a subscriber may have come or gone (never without a `TopicInterest`: it wants everything). */
  onInterest(listener: () => void): () => void {
    return this.interest?.onChange?.(listener) ?? (() => undefined);
  }

  publish<T extends PandoTopic>(topic: T, payload: TopicPayload<T>, sessionId?: string): void {
    if (!this.wants(topic)) return;
    const frame = this.frames.build(topic, payload, sessionId);
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

/**
 * `encodePublication`'s frame (topic, NUL, the envelope's JSON with keys instanceId, projectId, sessionId
 * when set, topic, timestamp, payload), byte for byte, without building the envelope object: the parts
 * that only depend on the topic are kept, and the timestamp is formatted once per millisecond (the clock's
 * resolution, so the text is the same `rfc3339Nano` would give).
 */
export class FrameBuilder {
  private readonly heads = new Map<string, { head: string; tail: string }>();
  private readonly instance: string;
  private stampMs = Number.NaN;
  private stamp = '';

  constructor(instanceId: string) {
    this.instance = JSON.stringify(instanceId);
  }

  build(topic: string, payload: unknown, sessionId?: string): string {
    let parts = this.heads.get(topic);
    if (!parts) {
      const quoted = JSON.stringify(topic);
      parts = { head: `${topic}\0{"instanceId":${this.instance},"projectId":""`, tail: `,"topic":${quoted},"timestamp":"` };
      this.heads.set(topic, parts);
    }
    const session = sessionId ? `,"sessionId":${JSON.stringify(sessionId)}` : '';
    return `${parts.head}${session}${parts.tail}${this.now()}","payload":${JSON.stringify(payload)}}`;
  }

  private now(): string {
    const ms = Date.now();
    if (ms !== this.stampMs) {
      this.stampMs = ms;
      this.stamp = rfc3339Nano(new Date(ms));
    }
    return this.stamp;
  }
}
