import { describe, expect, it } from 'vitest';
import { StoredPage, type EventSink, type SinkSubscription } from '../../core/event-log/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { Outbox } from './outbox.js';
import { SessionFeed } from './session-feed.js';
import type { FeedError } from './feeds.js';
import { frameTexts, type OutFrame } from './ws-frame.js';

const event = (seq: number): StoredEvent => ({
  session_id: 'ses_1', seq, type: 'agent_choice', data: { content: `c${seq} ü` }, timestamp: '2026-01-01T00:00:00.000Z',
});
const page = (events: StoredEvent[]) => new StoredPage('ses_1', events[0]!.seq - 1, events.map((e) => ({ ...e, data: JSON.stringify(e.data) })), false, 1);
/** Frames with their (send-time) timestamps blanked, so live and stored paths compare byte for byte. */
const stable = (frames: string[]) => frames.map((f) => f.replace(/"timestamp":\d+,/, '"timestamp":0,'));

function target(full = false) {
  const sent: string[] = [];
  /** Each frame with the socket's cork depth when it was sent. */
  const corked: number[] = [];
  let depth = 0;
  let room: (() => void) | undefined;
  const outbox = {
    send: (f: OutFrame) => {
      for (const text of frameTexts(f)) {
        sent.push(text);
        corked.push(depth);
      }
    },
    cork: () => depth++,
    uncork: () => depth--,
    get full() { return full; },
    room: () => new Promise<void>((r) => (room = r)),
  } as unknown as Outbox;
  return { sent, corked, depth: () => depth, outbox, closed: false, free: () => { full = false; room?.(); } };
}
const held = (): SinkSubscription & { resumed: number } => ({
  resumed: 0, closed: false, cursor: 0,
  stats: { queued: 0, maxQueued: 0, overflows: 0, storeReads: 0, sharedReads: 0 },
  resume() { this.resumed++; }, close() {},
});

describe('SessionFeed', () => {
  it('sends the same frames for stored rows (from their JSON text) as for live events', () => {
    const events = [1, 2, 3, 4].map(event);
    const fromLive = target();
    const a = new SessionFeed(fromLive, 'ses_1', 0, 2, () => undefined);
    a.onBatch({ from: 'live', events });
    const fromStore = target();
    const b = new SessionFeed(fromStore, 'ses_1', 0, 2, () => undefined);
    b.onBatch({ from: 'store', page: page(events), start: 0, end: 4 });
    expect(stable(fromStore.sent)).toEqual(stable(fromLive.sent));
    // Up to the seq at subscribe: one batch frame; after it: event frames.
    expect(fromStore.sent.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(['batch', 'event', 'event']);
    const batch = JSON.parse(fromStore.sent[0]!) as { data: { events: Array<{ seq: number; content: string }>; has_more: boolean } };
    expect(batch.data.events.map((e) => [e.seq, e.content])).toEqual([[1, 'c1 ü'], [2, 'c2 ü']]);
    expect(batch.data.has_more).toBe(false);
  });

  it('sends an empty batch first when already at the head, and holds the subscription while the backlog is full', async () => {
    const t = target(true);
    const feed: EventSink & SessionFeed = new SessionFeed(t, 'ses_1', 5, 5, () => undefined);
    const sub = held();
    feed.start(sub);
    expect(sub.resumed).toBe(1);
    expect(t.sent).toHaveLength(1);
    const answer = feed.onBatch({ from: 'live', events: [event(6)] });
    expect(answer).toBeInstanceOf(Promise);
    t.free();
    await answer;
  });

  it('sends the frames of one delivery with the socket corked, so they leave in one write (one frame is one write anyway)', () => {
    const t = target();
    const feed = new SessionFeed(t, 'ses_1', 0, 2, () => undefined);
    feed.onBatch({ from: 'live', events: [1, 2, 3, 4].map(event) });
    feed.onBatch({ from: 'live', events: [event(5)] });
    expect(t.sent).toHaveLength(4);
    expect(t.corked).toEqual([1, 1, 1, 0]);
    expect(t.depth()).toBe(0);
  });

  it('sends a caught-up commit of several events as one write of bytes shared by every subscriber handed it', () => {
    const sends: Array<{ f: OutFrame; frames: number | undefined }> = [];
    const outbox = { send: (f: OutFrame, frames?: number) => void sends.push({ f, frames }), full: false } as unknown as Outbox;
    const events = [3, 4, 5].map(event);
    for (let i = 0; i < 2; i++) new SessionFeed({ outbox, closed: false }, 'ses_1', 2, 2, () => undefined).onBatch({ from: 'live', events });
    expect(sends).toHaveLength(2);
    expect(sends.map((s) => s.frames)).toEqual([3, 3]);
    expect(sends[1]!.f).toBe(sends[0]!.f);
    // The same frames the per-event path sends (a subscriber handed a batch of its own).
    const alone = target();
    const feed = new SessionFeed(alone, 'ses_1', 2, 2, () => undefined);
    for (const e of events) feed.onBatch({ from: 'live', events: [e] });
    expect(frameTexts(sends[0]!.f)).toEqual(alone.sent);
  });

  it('reports a failure with the phase it happened in', () => {
    const ended: Array<FeedError | undefined> = [];
    const feed = new SessionFeed(target(), 'ses_1', 0, 10, (err) => ended.push(err));
    feed.onBatch({ from: 'live', events: [event(1)] });
    feed.onEnd(new Error('disk'));
    const later = new SessionFeed(target(), 'ses_1', 0, 1, (err) => ended.push(err));
    later.onBatch({ from: 'live', events: [event(1), event(2)] });
    later.onEnd(new Error('disk'));
    new SessionFeed(target(), 'ses_1', 0, 1, (err) => ended.push(err)).onEnd();
    expect(ended.map((e) => e?.phase)).toEqual(['catch_up', 'live', undefined]);
  });
});
