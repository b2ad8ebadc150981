import { toWire, type StoredEvent } from '../../protocol/events.js';
import type { ThreadMessage } from '../../protocol/messaging.js';
import type { Outbox } from './outbox.js';
import { frame } from './frames.js';

/** The most items in one `batch` frame (seed 001). */
export const BATCH_SIZE = 50;

/** An event's `event` frame, serialized once however many connections carry it. */
const eventFrames = new WeakMap<StoredEvent, string>();
const wireEvents = new WeakMap<StoredEvent, string>();

function wireJson(e: StoredEvent): string {
  let s = wireEvents.get(e);
  if (s === undefined) {
    s = JSON.stringify(toWire(e));
    wireEvents.set(e, s);
  }
  return s;
}

export function eventFrame(e: StoredEvent): string {
  let s = eventFrames.get(e);
  if (s === undefined) {
    s = `{"type":"event","timestamp":${Date.now()},"data":${wireJson(e)}}`;
    eventFrames.set(e, s);
  }
  return s;
}

function sessionBatch(sessionId: string, events: readonly StoredEvent[], hasMore: boolean): string {
  return `{"type":"batch","timestamp":${Date.now()},"data":{"session_id":${JSON.stringify(sessionId)},"events":[${events.map(wireJson).join(',')}],"has_more":${hasMore}}}`;
}

/** A subscription that failed, and whether it was still sending its catch-up batches. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  constructor(
    readonly phase: 'catch_up' | 'live',
    options: { cause: unknown },
  ) {
    super(`feed failed during ${phase}`, options);
  }
}

export interface FeedTarget {
  readonly outbox: Outbox;
  readonly closed: boolean;
}

/**
 * Drives one subscription onto a connection: `batch` frames of at most 50 until the seq the target had
 * at subscribe time, then one live frame per item. It pulls the next batch only when the connection has
 * room, so a stalled reader makes the subscription fall behind (and catch up from the store), never
 * queue without bound. Returns when the subscription ends or the connection closes.
 */
export async function pump<T>(
  target: FeedTarget,
  source: AsyncIterable<T[]>,
  opts: {
    fromSeq: number;
    lastAtSubscribe: number;
    seqOf: (item: T) => number;
    batch: (items: readonly T[], hasMore: boolean) => string;
    live: (item: T) => string;
  },
): Promise<void> {
  const { seqOf, lastAtSubscribe } = opts;
  let cursor = opts.fromSeq;
  if (cursor >= lastAtSubscribe) target.outbox.send(opts.batch([], false));
  try {
    await drive();
  } catch (err) {
    throw new FeedError(cursor < lastAtSubscribe ? 'catch_up' : 'live', { cause: err });
  }

  async function drive(): Promise<void> {
    for await (const items of source) {
      if (target.closed) return;
      let i = 0;
      while (i < items.length && seqOf(items[i] as T) <= lastAtSubscribe) {
        const chunk = items.slice(i, i + BATCH_SIZE).filter((x) => seqOf(x) <= lastAtSubscribe);
        i += chunk.length;
        const lastItem = chunk[chunk.length - 1];
        if (lastItem !== undefined) cursor = seqOf(lastItem);
        target.outbox.send(opts.batch(chunk, cursor < lastAtSubscribe));
      }
      for (; i < items.length; i++) {
        const item = items[i];
        if (item !== undefined) target.outbox.send(opts.live(item));
      }
      if (target.outbox.full) await target.outbox.room();
    }
  }
}

export function pumpSession(target: FeedTarget, sessionId: string, source: AsyncIterable<StoredEvent[]>, fromSeq: number, last: number): Promise<void> {
  return pump(target, source, {
    fromSeq,
    lastAtSubscribe: last,
    seqOf: (e) => e.seq,
    batch: (events, hasMore) => sessionBatch(sessionId, events, hasMore),
    live: (e) => eventFrame(e),
  });
}

export function pumpThread(target: FeedTarget, threadId: string, source: AsyncIterable<ThreadMessage[]>, fromSeq: number, last: number): Promise<void> {
  return pump(target, source, {
    fromSeq,
    lastAtSubscribe: last,
    seqOf: (m) => m.message_seq,
    batch: (messages, hasMore) => frame('batch', { thread_id: threadId, messages, has_more: hasMore }),
    live: (m) => frame('message', m),
  });
}
