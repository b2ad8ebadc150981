import type { Subscriber } from 'zeromq';
import { decodePublication } from '../../protocol/pando-bus.js';
import type { RemoteEvent, RemoteFeed } from './types.js';
import { loadZmq } from './zmq-load.js';

/**
 * Live events from an instance's PUB socket. ZeroMQ reconnects by itself after the instance restarts;
 * what was published meanwhile is gone, so the feed reports a reconnect (socket reconnected, or a new
 * instance id on the envelopes) and the session resyncs with state.sync + message.list.
 */
export class ZmqFeed implements RemoteFeed {
  private socket: Subscriber | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private lastInstance: string | undefined;
  private disconnected = false;

  constructor(
    readonly endpoint: string,
    private readonly prefixes: readonly string[] = [''],
  ) {}

  /** Loads zeromq and subscribes; events published before the subscription lands are not seen. */
  async prepare(): Promise<void> {
    const zmq = await loadZmq();
    this.socket ??= new zmq.Subscriber({ linger: 0 });
  }

  start(handlers: { onEvent(e: RemoteEvent): void; onReconnect(): void }): void {
    const socket = this.socket;
    if (!socket || this.closed) throw new Error('ZmqFeed: prepare() first');
    socket.events.on('disconnect', () => {
      this.disconnected = true;
    });
    socket.events.on('connect', () => {
      if (!this.disconnected) return;
      this.disconnected = false;
      handlers.onReconnect();
    });
    socket.connect(this.endpoint);
    for (const p of this.prefixes) socket.subscribe(p);
    this.loop = (async () => {
      try {
        for await (const frames of socket) {
          if (frames.length !== 1) continue; // Pando publishes one frame; anything else is not ours
          const decoded = decodePublication(frames[0]!);
          if (!decoded) continue;
          const { envelope } = decoded;
          // Pando's heartbeats carry two different instance ids (a known gap); other topics name one.
          if (decoded.topic !== 'instance.heartbeat' && envelope.instanceId) {
            const changed = this.lastInstance !== undefined && envelope.instanceId !== this.lastInstance;
            this.lastInstance = envelope.instanceId;
            if (changed) handlers.onReconnect();
          }
          handlers.onEvent({
            topic: decoded.topic,
            payload: (envelope.payload ?? {}) as Record<string, unknown>,
            ...(envelope.sessionId ? { sessionId: envelope.sessionId } : {}),
            instanceId: envelope.instanceId,
            timestamp: envelope.timestamp,
          });
        }
      } catch {
        // closed
      }
    })();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket?.close();
    await this.loop;
  }
}
