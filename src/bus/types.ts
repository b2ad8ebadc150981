import type { StoredEvent } from '../protocol/events.js';

/**
 * `dataJson`, when the publisher had it, is the JSON text of `event.data` exactly as the store holds it
 * (`JSON.stringify` of it at append): a listener building wire frames may splice it instead of
 * serialising the payload again. A network bus need not carry it (listeners then get undefined).
 */
export type BusListener = (event: StoredEvent, dataJson?: string) => void;

/** Per event of a publish, its payload's stored JSON text (`BusListener`'s `dataJson`), where known. */
export type DataJson = readonly (string | undefined)[];

export interface BusSubscribeOptions {
  /**
   * Called when the bus may have dropped events of this subscription (a reconnect of a network bus), once
   * the subscription is active again: the subscriber should re-read the store from its cursor.
   */
  onLoss?: () => void;
}

/**
 * Live fan-out of committed events. It only ever carries events that are already durable in the store;
 * a listener that misses one (overflow, a lossy cluster bus) recovers it from the store by seq.
 *
 * Both directions are asynchronous, because a network bus (Redis, ZeroMQ) needs a round trip before a
 * SUBSCRIBE is in effect: an event published before `subscribe` resolved may not reach the listener, so
 * a subscriber reads the store only after it resolved.
 */
export interface Bus {
  /**
   * True when the bus may lose messages even while connected (network pub/sub). Subscribers of a lossy
   * bus re-check the store when idle, so a lost final event cannot leave them waiting forever.
   */
  readonly lossy?: boolean;
  /**
   * Publishes committed events, in seq order per session. Resolves once handed to the transport; it
   * rejects (or resolves) promptly even when the transport is down: callers never wait on a reconnect.
   * `dataJson`, parallel to `events`, is handed to in-process listeners with each event.
   */
  publish(events: readonly StoredEvent[], dataJson?: DataJson): Promise<void>;
  /**
   * Calls `listener` for each event of the session published once the returned promise has resolved.
   * Resolves to the unsubscribe (idempotent); rejects when the subscription cannot be made.
   */
  subscribe(sessionId: string, listener: BusListener, opts?: BusSubscribeOptions): Promise<() => void>;
  close(): Promise<void>;
}
