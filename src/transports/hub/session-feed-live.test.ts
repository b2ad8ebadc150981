import { afterEach, describe, expect, it } from 'vitest';
import { EventLog, StoredPage, type EventBatch } from '../../core/event-log/index.js';
import { fixture, type Fixture } from '../../core/event-log/test-helpers.js';
import { storedEventOf, type NewEvent, type StoredEvent } from '../../protocol/events.js';
import { wireJson } from '../../protocol/wire-json.js';
import type { Outbox } from './outbox.js';
import { SessionFeed } from './session-feed.js';
import { frameTexts, type OutFrame } from './ws-frame.js';

/**
 * Live frames built from the payload text group commit already encoded (`batch.dataJson`) must be the
 * bytes the hub sent when it serialised each event (`wireJson`), for every payload shape.
 */

const SESSION = 'ses "1" ü';
const AT = '2026-01-02T03:04:05.678Z';

function target() {
  const sent: string[] = [];
  const outbox = { send: (f: OutFrame) => void sent.push(...frameTexts(f)), cork: () => 0, uncork: () => 0, full: false } as unknown as Outbox;
  return { sent, outbox, closed: false };
}

/** Frames with their send-time timestamps blanked (the only bytes that differ run to run). */
const stable = (frames: string[]) => frames.map((f) => f.replace(/^\{"type":"(event|batch)","timestamp":\d+,/, '{"type":"$1","timestamp":0,'));

/** The frames the hub sent before this change: every event serialised with `wireJson`. */
function expected(events: StoredEvent[], lastAtSubscribe: number): string[] {
  const upTo = events.filter((e) => e.seq <= lastAtSubscribe);
  const out = upTo.length
    ? [`{"type":"batch","timestamp":0,"data":{"session_id":${JSON.stringify(SESSION)},"events":[${upTo.map(wireJson).join(',')}],"has_more":false}}`]
    : [];
  for (const e of events.filter((x) => x.seq > lastAtSubscribe)) out.push(`{"type":"event","timestamp":0,"data":${wireJson(e)}}`);
  return out;
}

/** Sends `events` live (with `dataJson` as given) to a fresh feed; its frames, timestamps blanked. */
function deliver(events: StoredEvent[], dataJson: Array<string | undefined> | undefined, lastAtSubscribe = 0): string[] {
  const t = target();
  new SessionFeed(t, SESSION, 0, lastAtSubscribe, () => undefined).onBatch(dataJson ? { from: 'live', events, dataJson } : { from: 'live', events });
  return stable(t.sent);
}

class Part {
  constructor(readonly text: string) {}
}

const payloads: Array<[string, () => unknown]> = [
  ['plain', () => ({ content: 'hello' })],
  ['empty', () => ({})],
  ['unicode, escapes, lone surrogates', () => ({ content: 'ünï \u0000 "q" \\ \n \u2028 \ud83d\ude00 lone \udc00' })],
  ['nested type and seq keys', () => ({ content: [{ type: 'text', seq: 1, text: 'hi' }], tool: { schema: { type: 'object', session_id: 's', timestamp: 't' } } })],
  ['envelope names inside strings', () => ({ content: '"type":"x","seq":1', keys: ['"__proto__"', '\\"'] })],
  ['nested __proto__', () => JSON.parse('{"deep": {"__proto__": {"x": 1}}, "content": "p"}')],
  ['own top-level __proto__', () => JSON.parse('{"__proto__": {"polluted": 1}, "content": "p"}')],
  ['top-level type and seq', () => ({ content: 'x', type: 'not-the-type', seq: 'nope' })],
  ['top-level timestamp and session_id', () => ({ timestamp: 'payload', session_id: 'payload' })],
  ['own toJSON', () => ({ content: 'x', toJSON: () => ({ other: 1 }) })],
  ['a Date inside', () => ({ at: new Date(0), content: 'd' })],
  ['a class instance', () => new Part('t')],
];

describe('SessionFeed live frames from the appended payload text', () => {
  it.each(payloads)('are byte-identical to the serialised frames for %s (event and batch frames)', (_label, make) => {
    // Fresh event objects per delivery: frames are cached per event object.
    const make3 = () => [1, 2, 3].map((seq) => storedEventOf(SESSION, seq, 'agent_choice', make(), AT));
    for (const lastAtSubscribe of [0, 2]) {
      const withText = make3();
      expect(deliver(withText, withText.map((e) => JSON.stringify(e.data)), lastAtSubscribe)).toEqual(expected(withText, lastAtSubscribe));
      // A bus that carries no text (Redis), or a batch with some entries missing: serialised as before.
      const without = make3();
      expect(deliver(without, undefined, lastAtSubscribe)).toEqual(expected(without, lastAtSubscribe));
      const partial = make3();
      expect(deliver(partial, [undefined, JSON.stringify(partial[1]!.data), undefined], lastAtSubscribe)).toEqual(expected(partial, lastAtSubscribe));
    }
  });

  it('takes the payload from the appended text, not by serialising the event again', () => {
    const e = storedEventOf(SESSION, 1, 'agent_choice', { content: 'now' }, AT);
    const [frame] = deliver([e], ['{"content":"as appended"}']);
    expect(JSON.parse(frame!)).toMatchObject({ type: 'event', data: { content: 'as appended', seq: 1, session_id: SESSION } });
  });

  it('serialises the event where the splice could differ (a top-level envelope name, __proto__, not one object)', () => {
    const cases: Array<[unknown, string]> = [
      [{ content: 'now', type: 'x' }, '{"content":"stale","type":"x"}'],
      [JSON.parse('{"__proto__": {"a": 1}, "content": "now"}'), '{"__proto__":{"a":1},"content":"stale"}'],
      [{ content: 'now' }, '{"content":"stale","\\u0074ype":1}'],
      [{ content: 'now' }, '["stale"]'],
      [{ content: 'now' }, '{"content":"stale"'],
    ];
    for (const [data, text] of cases) {
      const e = storedEventOf(SESSION, 1, 'agent_choice', data, AT);
      expect(deliver([e], [text])).toEqual(expected([e], 0));
    }
  });

  it('hands every subscriber of a batch the same bytes, whichever batch object carries the events', () => {
    const events = [1, 2].map((seq) => storedEventOf(SESSION, seq, 'agent_choice', { content: `c${seq}` }, AT));
    const dataJson = events.map((e) => JSON.stringify(e.data));
    const frames = (batch: EventBatch) => {
      const t = target();
      new SessionFeed(t, SESSION, 0, 0, () => undefined).onBatch(batch);
      return t.sent;
    };
    const first = frames({ from: 'live', events, dataJson });
    expect(frames({ from: 'live', events, dataJson })).toEqual(first);
    // A subscriber stepping from the ring: a slice of the same events, without text.
    expect(frames({ from: 'live', events: events.slice(1) })).toEqual(first.slice(1));
    expect(stable(first)).toEqual(expected(events, 0));
  });
});

describe('SessionFeed live frames through a real event log', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('match the serialised frames and the catch-up frames from the store, with the text carried by the bus', async () => {
    f = await fixture([SESSION]);
    const log = new EventLog(f.store, f.bus);
    const live = target();
    const batches: EventBatch[] = [];
    const feed = new SessionFeed(live, SESSION, 0, 0, () => undefined);
    const sink = { onBatch: (b: EventBatch) => (batches.push(b), feed.onBatch(b)), onEnd: (err?: unknown) => feed.onEnd(err) };
    const sub = log.subscribeSink(SESSION, 0, sink, { paused: true });
    feed.start(sub);
    const datas = payloads.map(([, make]) => make()).filter((d) => (d as { toJSON?: unknown }).toJSON === undefined && !(d instanceof Part));
    await Promise.all(datas.map((data) => log.append(SESSION, { type: 'agent_choice', data } as NewEvent)));
    const events = batches.flatMap((b) => (b.from === 'live' ? [...b.events] : []));
    expect(events.map((e) => e.seq)).toEqual(datas.map((_, i) => i + 1));
    expect(batches.every((b) => b.from === 'live' && b.dataJson?.length === b.events.length)).toBe(true);
    const frames = stable(live.sent).slice(1);
    expect(frames).toEqual(expected(events, 0));
    // The same session read back from the store (catch-up frames from the stored text).
    const replay = target();
    const stored = new SessionFeed(replay, SESSION, 0, 0, () => undefined);
    const rows = await f.store.readEventsRaw(SESSION, 0, 100);
    stored.onBatch({ from: 'store', page: new StoredPage(SESSION, 0, rows, false, 1), start: 0, end: rows.length });
    expect(stable(replay.sent)).toEqual(frames);
    sub.close();
  });
});
