import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { EVENT_TYPES, storedEventOf, type EventType, type StoredEvent } from '../protocol/events.js';
import type { Bus, BusListener, BusSubscribeOptions } from './types.js';

export interface RedisBusOptions {
  /** Prefix of every channel; nodes of one cluster share it, tests use a unique one. Default "tower". */
  prefix?: string;
  logger?: Logger;
}

/** One pub/sub message: a batch of one session's committed events, as published. */
const Message = z.array(
  z.object({
    session_id: z.string(),
    seq: z.number().int().positive(),
    type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
    data: z.record(z.string(), z.unknown()),
    timestamp: z.string(),
  }),
);

interface Entry {
  listener: BusListener;
  onLoss: (() => void) | undefined;
}

interface Channel {
  entries: Set<Entry>;
  /** The SUBSCRIBE in flight or done for this channel. */
  ready: Promise<unknown>;
}

/**
 * Live fan-out between nodes over Redis pub/sub: one channel per session, one publisher and one
 * subscriber connection per bus, channels reference-counted over local listeners. Redis pub/sub is
 * at-most-once (a reconnect or a slow client drops messages), so the bus is `lossy`: subscribers repair
 * from the store by seq, on a gap, on the idle re-check, and on `onLoss` after every resubscription.
 */
export class RedisBus implements Bus {
  readonly lossy = true;
  private readonly channels = new Map<string, Channel>();
  private readonly prefix: string;
  private readonly logger: Logger;
  private closed = false;
  private connectedOnce = false;
  /** Times the subscriber connection came back and resubscribed (diagnostics and tests). */
  reconnects = 0;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    opts: RedisBusOptions,
  ) {
    this.prefix = opts.prefix ?? 'tower';
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message));
    this.sub.on('ready', () => void this.onSubscriberReady());
    for (const conn of [pub, sub]) conn.on('error', (err: Error) => this.logger.warn({ err }, 'redis bus connection error'));
  }

  static async open(url: string, opts: RedisBusOptions = {}): Promise<RedisBus> {
    const name = `${opts.prefix ?? 'tower'}-${process.pid}`;
    // Publishing never waits for a reconnect: with no offline queue a publish while down fails at once
    // (logged by the event log; subscribers recover from the store).
    const pub = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `${name}-pub` });
    // Resubscription is ours (onSubscriberReady), so subscribers hear about the loss only once active again.
    const sub = new Redis(url, { lazyConnect: true, autoResubscribe: false, connectionName: `${name}-sub` });
    const bus = new RedisBus(pub, sub, opts);
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      throw err;
    }
    return bus;
  }

  /** The payloads' stored text (`dataJson`) is not sent: listeners on every node get events only. */
  async publish(events: readonly StoredEvent[]): Promise<void> {
    if (this.closed || events.length === 0) return;
    const bySession = new Map<string, StoredEvent[]>();
    for (const e of events) {
      const list = bySession.get(e.session_id);
      if (list) list.push(e);
      else bySession.set(e.session_id, [e]);
    }
    // Issued in order on one connection, so each session's batches arrive in seq order.
    await Promise.all([...bySession].map(([id, list]) => this.pub.publish(this.channel(id), JSON.stringify(list))));
  }

  async subscribe(sessionId: string, listener: BusListener, opts: BusSubscribeOptions = {}): Promise<() => void> {
    if (this.closed) return () => {};
    const name = this.channel(sessionId);
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { entries: new Set(), ready: this.sub.subscribe(name) };
      this.channels.set(name, channel);
    }
    const entry: Entry = { listener, onLoss: opts.onLoss };
    channel.entries.add(entry);
    const off = (): void => this.remove(name, entry);
    try {
      await channel.ready;
    } catch (err) {
      off();
      throw err;
    }
    return off;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([this.pub, this.sub].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private remove(name: string, entry: Entry): void {
    const channel = this.channels.get(name);
    if (!channel?.entries.delete(entry) || channel.entries.size > 0) return;
    this.channels.delete(name);
    if (this.closed) return;
    // Commands on one connection run in order: a later SUBSCRIBE of this channel lands after this.
    this.sub.unsubscribe(name).catch((err: unknown) => this.logger.debug({ err, channel: name }, 'redis unsubscribe failed'));
  }

  private channel(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}`;
  }

  private onMessage(channel: string, raw: Buffer): void {
    const target = this.channels.get(channel);
    if (!target) return;
    let events: StoredEvent[];
    try {
      events = Message.parse(JSON.parse(raw.toString('utf8'))).map((e) => storedEventOf(e.session_id, e.seq, e.type, e.data, e.timestamp));
    } catch (err) {
      // Dropped like a lost message: the subscribers repair from the store.
      this.logger.warn({ err, channel }, 'redis bus: malformed message dropped');
      return;
    }
    for (const event of events) {
      for (const entry of target.entries) {
        try {
          entry.listener(event);
        } catch (err) {
          this.logger.error({ err, session_id: event.session_id, seq: event.seq }, 'bus listener threw');
        }
      }
    }
  }

  /** After a reconnect: resubscribe every channel, then tell its listeners they may have missed events. */
  private async onSubscriberReady(): Promise<void> {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    const names = [...this.channels.keys()];
    try {
      if (names.length > 0) await this.sub.subscribe(...names);
    } catch (err) {
      this.logger.warn({ err }, 'redis bus: resubscribe failed');
      return;
    }
    this.reconnects++;
    this.logger.info({ channels: names.length }, 'redis bus resubscribed');
    for (const name of names) {
      for (const entry of this.channels.get(name)?.entries ?? []) entry.onLoss?.();
    }
  }
}

export function openRedisBus(url: string, opts?: RedisBusOptions): Promise<RedisBus> {
  return RedisBus.open(url, opts);
}
