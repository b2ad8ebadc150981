import type { ThreadMessage } from '../../protocol/messaging.js';
import type { Outbox } from './outbox.js';
import { frame } from './frames.js';
import type { OutFrame } from './ws-frame.js';

/** The most items in one `batch` frame (seed 001). */
export const BATCH_SIZE = 50;

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

/** How a feed turns its items into frames: the seq of one, a catch-up `batch` frame, a live frame. */
export interface FrameKinds<T> {
  seqOf(item: T): number;
  batch(items: readonly T[], hasMore: boolean): string;
  live(item: T): OutFrame;
}

/**
 * Sends one delivery of items onto a connection: `batch` frames of at most 50 for the items up to the
 * seq the target had at subscribe time, then one live frame per item. Returns the new cursor.
 */
export function sendItems<T>(target: FeedTarget, items: readonly T[], cursor: number, lastAtSubscribe: number, kinds: FrameKinds<T>): number {
  let i = 0;
  while (i < items.length && kinds.seqOf(items[i] as T) <= lastAtSubscribe) {
    const chunk = items.slice(i, i + BATCH_SIZE).filter((x) => kinds.seqOf(x) <= lastAtSubscribe);
    i += chunk.length;
    const lastItem = chunk[chunk.length - 1];
    if (lastItem !== undefined) cursor = kinds.seqOf(lastItem);
    target.outbox.send(kinds.batch(chunk, cursor < lastAtSubscribe));
  }
  for (; i < items.length; i++) {
    const item = items[i];
    if (item !== undefined) {
      target.outbox.send(kinds.live(item));
      cursor = kinds.seqOf(item);
    }
  }
  return cursor;
}

/**
 * Drives one pull subscription onto a connection (`sendItems` per batch). It pulls the next batch only
 * when the connection has room, so a stalled reader makes the subscription fall behind (and catch up
 * from the store), never queue without bound. Returns when the subscription ends or the connection
 * closes. Session subscriptions are pushed instead (`SessionFeed`); threads come through here.
 */
export async function pump<T>(
  target: FeedTarget,
  source: AsyncIterable<T[]>,
  opts: FrameKinds<T> & { fromSeq: number; lastAtSubscribe: number },
): Promise<void> {
  const { lastAtSubscribe } = opts;
  let cursor = opts.fromSeq;
  if (cursor >= lastAtSubscribe) target.outbox.send(opts.batch([], false));
  try {
    for await (const items of source) {
      if (target.closed) return;
      cursor = sendItems(target, items, cursor, lastAtSubscribe, opts);
      if (target.outbox.full) await target.outbox.room();
    }
  } catch (err) {
    throw new FeedError(cursor < lastAtSubscribe ? 'catch_up' : 'live', { cause: err });
  }
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
