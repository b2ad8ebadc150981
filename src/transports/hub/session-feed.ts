import type { EventBatch, EventSink, SinkSubscription } from '../../core/event-log/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import { liveWireJson, rawWireJson, wireJson, type RawStoredEvent } from '../../protocol/wire-json.js';
import { FeedError, sendItems, type FeedTarget, type FrameKinds } from './feeds.js';
import { sessionJsonOf } from '../session-json.js';
import { concatFrames, encodeTextFrame, type EncodedFrame } from './ws-frame.js';

type LiveBatch = Extract<EventBatch, { from: 'live' }>;

/** A delivered event: a live one (the bus's object) or a stored row of a shared catch-up page. */
type Item = StoredEvent | RawStoredEvent;

// Live events and stored rows are shared by every connection carrying them (the bus hands out one
// object per event; catch-up pages are shared between subscribers): serialise each once.
const wires = new WeakMap<Item, string>();
const eventFrames = new WeakMap<Item, EncodedFrame>();

function wireOf(item: Item): string {
  let s = wires.get(item);
  if (s === undefined) {
    s = typeof item.data === 'string' ? rawWireJson(item as RawStoredEvent) : wireJson(item as StoredEvent);
    wires.set(item, s);
  }
  return s;
}

// The live batch last primed: every caught-up subscriber of a commit is handed the same one, so only
// the first of them walks its events.
let primed: readonly StoredEvent[] | undefined;

/**
 * Caches the wire JSON of a live batch's events from their payload text as appended (`dataJson`, where
 * the bus carried it), so a payload is not serialised a second time: `liveWireJson` gives the bytes
 * `wireJson` would, and falls back to it per event where the splice could differ. Another session's
 * event (never handed out) is left to the object way.
 */
function primeLive(batch: LiveBatch, sessionId: string): void {
  const { events, dataJson } = batch;
  if (dataJson === undefined || events === primed) return;
  primed = events;
  // The ring's batches carry the id's JSON (made once per ring); a batch from elsewhere may not.
  const sessionJson = batch.sessionJson ?? sessionJsonOf(sessionId);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as StoredEvent;
    if (e.session_id === sessionId && !wires.has(e)) wires.set(e, liveWireJson(e, dataJson[i], sessionJson));
  }
}

/**
 * A live run's `event` frames end to end, built once per run: the ring hands every caught-up subscriber
 * of a commit the same events array, one after another, so each of them writes the commit in one `write`
 * of shared bytes (no cork, no per-frame stream bookkeeping, no `writev` of the pieces). The ring's next
 * run is a new array, so the last run built is the only one worth keeping.
 */
let lastRun: readonly StoredEvent[] | undefined;
let lastRunFrame: EncodedFrame | undefined;

function runFrame(events: readonly StoredEvent[]): EncodedFrame {
  if (events !== lastRun || lastRunFrame === undefined) {
    lastRunFrame = concatFrames(events.map(eventFrame));
    lastRun = events;
  }
  return lastRunFrame;
}

// The event last framed: a commit of one event reaches every subscriber of the session in a row.
let lastItem: Item | undefined;
let lastFrame: EncodedFrame | undefined;

/** An event's `event` frame, serialized and encoded once however many connections carry it. */
export function eventFrame(item: Item): EncodedFrame {
  if (item === lastItem && lastFrame !== undefined) return lastFrame;
  let f = eventFrames.get(item);
  if (f === undefined) {
    f = encodeTextFrame(`{"type":"event","timestamp":${Date.now()},"data":${wireOf(item)}}`);
    eventFrames.set(item, f);
  }
  lastItem = item;
  lastFrame = f;
  return f;
}

/**
 * One hub session subscription, pushed: `batch` frames of at most 50 until the seq the session had at
 * subscribe time, then one `event` frame per event, built from the stored JSON text for catch-up rows.
 * When the connection's backlog is full the subscription is held until there is room, so a stalled
 * reader makes it fall behind (and catch up from the store), never queue without bound. `done` is told
 * once when it ends: without an error when the log ended (session deleted) or it was closed.
 */
export class SessionFeed implements EventSink, FrameKinds<Item> {
  private cursor: number;

  constructor(
    private readonly target: FeedTarget,
    private readonly sessionId: string,
    fromSeq: number,
    private readonly lastAtSubscribe: number,
    private readonly done: (err: FeedError | undefined) => void,
  ) {
    this.cursor = fromSeq;
  }

  /** Starts delivery on a subscription made held (`paused`) with this feed as its sink. */
  start(sub: SinkSubscription): void {
    if (this.cursor >= this.lastAtSubscribe) this.target.outbox.send(this.batch([], false));
    sub.resume();
  }

  onBatch(batch: EventBatch): boolean | Promise<void> {
    if (this.target.closed) return false;
    const outbox = this.target.outbox;
    let items: readonly Item[];
    if (batch.from === 'live') {
      const events = batch.events;
      primeLive(batch, this.sessionId);
      if (events.length > 1 && (events[0] as StoredEvent).seq > this.lastAtSubscribe) {
        // Past the seq at subscribe: all `event` frames, the commit's one write.
        outbox.send(runFrame(events), events.length);
        this.cursor = (events[events.length - 1] as StoredEvent).seq;
        return outbox.full ? outbox.room() : true;
      }
      items = events;
    } else items = batch.page.rows.slice(batch.start, batch.end);
    // A page's batch frames (or a commit's events straddling the seq at subscribe) leave in one socket
    // write, not one each. (One frame needs no cork: it is one write anyway.)
    if (items.length === 1) this.cursor = sendItems(this.target, items, this.cursor, this.lastAtSubscribe, this);
    else {
      outbox.cork();
      try {
        this.cursor = sendItems(this.target, items, this.cursor, this.lastAtSubscribe, this);
      } finally {
        outbox.uncork();
      }
    }
    return outbox.full ? outbox.room() : true;
  }

  onEnd(err?: unknown): void {
    this.done(err === undefined ? undefined : new FeedError(this.cursor < this.lastAtSubscribe ? 'catch_up' : 'live', { cause: err }));
  }

  seqOf(item: Item): number {
    return item.seq;
  }

  batch(items: readonly Item[], hasMore: boolean): string {
    return `{"type":"batch","timestamp":${Date.now()},"data":{"session_id":${sessionJsonOf(this.sessionId)},"events":[${items.map(wireOf).join(',')}],"has_more":${hasMore}}}`;
  }

  live(item: Item): EncodedFrame {
    return eventFrame(item);
  }
}
