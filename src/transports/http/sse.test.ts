import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseReader } from '../../client/sse-reader.js';
import { FramedPage } from '../../core/event-log/index.js';
import { storedEventOf, toWire, type StoredEvent } from '../../protocol/events.js';
import { framedRows } from '../../protocol/wire-frames.js';
import type { RawStoredEvent } from '../../protocol/wire-json.js';
import { PING, Pinger, RETRY, SSE_FORMAT, SSE_HEADERS, batchBytes, eventsBytes, eventsChunk, pageBytes, sseFrame } from './sse.js';
import { SseStream } from './sse-stream.js';
import { FakeSubscription, storedEvent } from './testing/fake-subscription.js';

const live = (...events: StoredEvent[]) => ({ from: 'live' as const, events });
const rawOf = (e: StoredEvent): RawStoredEvent => ({ ...e, data: JSON.stringify(e.data) });
function streamed(sub: FakeSubscription, pingMs: number): Response {
  const stream = new SseStream(pingMs);
  return stream.start(sub.attach(stream));
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

afterEach(() => {
  vi.useRealTimers();
});

describe('eventsChunk', () => {
  it('is the frames as one HTTP/1.1 chunk, across slab ends, for multi-byte text and runs too big for a slab', () => {
    const plain = (events: StoredEvent[]): string => {
      const frames = events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(toWire(e))}\n\n`).join('');
      return `${Buffer.byteLength(frames).toString(16)}\r\n${frames}\r\n`;
    };
    const contents = ['a', 'héllo wörld', '\u{1F600} emoji', 'x'.repeat(3000), '\ud800 lone', 'y'.repeat(20_000)];
    let seq = 0;
    // Enough runs to fill several slabs, each run one to three events.
    for (let i = 0; i < 400; i++) {
      const n = 1 + (i % 3);
      const events = Array.from({ length: n }, (_, k) => storedEvent(++seq, { content: `${contents[(i + k) % contents.length]}${i}` }));
      const dataJson = events.map((e) => JSON.stringify(e.data));
      const chunk = eventsChunk(events, dataJson, JSON.stringify(events[0]?.session_id));
      expect(text(chunk)).toBe(plain(events));
      expect(text(eventsBytes(events, dataJson))).toBe(plain(events).replace(/^[0-9a-f]+\r\n/, '').slice(0, -2));
    }
  });
});

describe('sseFrame', () => {
  it('writes id, event and the wire JSON, and a reader gets the event back', () => {
    const event = storedEvent(7, { content: 'héllo\nworld "quoted"' });
    const frame = text(sseFrame(event));
    expect(frame).toBe(
      'id: 7\nevent: agent_choice\ndata: {"content":"héllo\\nworld \\"quoted\\"","type":"agent_choice","seq":7,' +
        '"session_id":"ses_1","timestamp":"2026-01-01T00:00:00.000Z"}\n\n',
    );
    const [message] = new SseReader().push(frame);
    expect(message).toMatchObject({ id: '7', event: 'agent_choice' });
    expect(JSON.parse(message?.data ?? '')).toMatchObject({ seq: 7, content: 'héllo\nworld "quoted"' });
  });

  it('encodes each event object once, for every subscriber', () => {
    const event = storedEvent(1);
    expect(sseFrame(event)).toBe(sseFrame(event));
    expect(sseFrame({ ...event })).not.toBe(sseFrame(event));
  });

  it('batches frames in order', () => {
    const batch = [storedEvent(1), storedEvent(2), storedEvent(3)];
    const messages = new SseReader().push(batchBytes(live(...batch)));
    expect(messages.map((m) => m.id)).toEqual(['1', '2', '3']);
    expect(batchBytes(live(batch[0]!))).toBe(sseFrame(batch[0]!));
  });
});

describe('pageBytes (catch-up frames of a page read in SSE_FORMAT)', () => {
  const events = [
    storedEvent(11, { content: 'plain' }),
    storedEvent(12, { content: 'multi-byte ü 😀 and "quotes"\n' }),
    storedEvent(13, {}),
    { ...storedEvent(14), type: 'session_deleted' as const, data: {} },
  ];
  const page = new FramedPage('ses_1', 10, framedRows('ses_1', events.map(rawOf), SSE_FORMAT), SSE_FORMAT, false, 1);

  it('is byte-identical to the frames of the parsed events, for the page and any slice of it', () => {
    const whole = Buffer.from(eventsBytes(events)).toString('utf8');
    expect(Buffer.from(pageBytes(page, 0, 4)).toString('utf8')).toBe(whole);
    for (let start = 0; start < 4; start++) {
      for (let end = start + 1; end <= 4; end++) {
        const slice = Buffer.from(pageBytes(page, start, end)).toString('utf8');
        expect(slice).toBe(Buffer.from(eventsBytes(events.slice(start, end))).toString('utf8'));
      }
    }
    expect(batchBytes({ from: 'framed', page, start: 1, end: 3 })).toEqual(pageBytes(page, 1, 3));
  });

  it('knows its seqs and where the log ends in it', () => {
    expect(page.seqAt(0)).toBe(11);
    expect(page.deletionFrom(0)).toBe(3);
    expect(page.deletionFrom(3)).toBe(3);
  });

  it('hands every subscriber the page bytes, or views of them', () => {
    const a = pageBytes(page, 0, 4);
    expect(pageBytes(page, 0, 4)).toBe(a);
    expect(pageBytes(page, 2, 4).buffer).toBe(a.buffer);
  });
});

describe('Pinger', () => {
  it('runs one timer for all its streams, and none once the last leaves', () => {
    vi.useFakeTimers();
    const pinger = new Pinger(1000);
    const pings: string[] = [];
    const a = { ping: () => pings.push('a') };
    const b = { ping: () => pings.push('b') };
    pinger.add(a);
    pinger.add(b);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(pings).toEqual(['a', 'b']);
    pinger.remove(a);
    vi.advanceTimersByTime(1000);
    expect(pings).toEqual(['a', 'b', 'b']);
    pinger.remove(b);
    expect(vi.getTimerCount()).toBe(0);
    pinger.add({ ping: () => pings.push('c') });
    expect(vi.getTimerCount()).toBe(1);
  });
});

describe('SseStream', () => {
  it('starts with retry, streams batches as they come, and ends with the subscription', async () => {
    const sub = new FakeSubscription();
    const response = streamed(sub, 60_000);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': SSE_HEADERS['Content-Type'],
      'cache-control': SSE_HEADERS['Cache-Control'],
    });
    const reader = response.body!.getReader();
    expect(text((await reader.read()).value!)).toBe(text(RETRY));
    sub.push(storedEvent(1), storedEvent(2));
    expect(text((await reader.read()).value!)).toBe(text(eventsBytes([storedEvent(1), storedEvent(2)])));
    sub.end();
    expect((await reader.read()).done).toBe(true);
    expect(sub.closed).toBe(true);
  });

  it('pulls the next batch only when the reader asks (no buffering ahead of a slow client)', async () => {
    const sub = new FakeSubscription();
    sub.push(storedEvent(1));
    sub.push(storedEvent(2));
    const reader = streamed(sub, 60_000).body!.getReader();
    await reader.read(); // retry
    await reader.read(); // event 1
    expect(sub.pulls).toBe(1);
    await reader.read(); // event 2
    expect(sub.pulls).toBe(2);
    await reader.cancel();
  });

  it('closes the subscription when the client cancels', async () => {
    const sub = new FakeSubscription();
    const reader = streamed(sub, 60_000).body!.getReader();
    await reader.read();
    await reader.cancel();
    await sub.whenClosed();
    expect(sub.closed).toBe(true);
  });

  it('pings on the interval', async () => {
    vi.useFakeTimers();
    const sub = new FakeSubscription();
    const reader = streamed(sub, 5_000).body!.getReader();
    await reader.read(); // retry
    const next = reader.read();
    vi.advanceTimersByTime(5_000);
    expect(text((await next).value!)).toBe(text(PING));
    await reader.cancel();
  });
});

describe('eventsBytes', () => {
  it('concatenates a run of events once for every subscriber taking the same run', () => {
    const run = [storedEvent(21), storedEvent(22), storedEvent(23)];
    const a = eventsBytes(run);
    expect(eventsBytes([...run])).toBe(a);
    // Another run from the same first event (a subscriber that took fewer) gets its own bytes.
    const shorter = eventsBytes(run.slice(0, 2));
    expect(Buffer.from(shorter).toString()).toBe(Buffer.from(a).toString().split('\n\n').slice(0, 2).join('\n\n') + '\n\n');
  });
});

describe('eventsBytes with the payloads\' stored text (live batches)', () => {
  const frame = (e: StoredEvent): string => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(toWire(e))}\n\n`;

  it('splices each text into the frames the object way would give, for any session id and timestamp', () => {
    const sessions = ['ses_1', 'ses "2" ü\n', 'ses\u2028'];
    const stamps = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.001Z'];
    const payloads: Array<Record<string, unknown>> = [
      { content: 'a' },
      { content: 'ü 😀 \udc00', nested: { type: 't', seq: 2, session_id: 'x' } },
      {},
      JSON.parse('{"content":"p","__proto__":{"x":1}}') as Record<string, unknown>,
    ];
    let seq = 100;
    // Sessions and timestamps alternate between runs and inside them, as commits of many sessions do.
    for (let round = 0; round < 3; round++) {
      for (const session of sessions) {
        const run = payloads.map((data, i) => storedEventOf(session, ++seq, 'agent_choice', data, stamps[(i + round) % 2] as string));
        const bytes = eventsBytes(run, payloads.map((data) => JSON.stringify(data)));
        expect(text(bytes)).toBe(run.map(frame).join(''));
      }
    }
  });

  it('takes the text as appended: the frame is the stored payload, not one changed since', () => {
    const data = { content: 'after' };
    const event = storedEventOf('ses_1', 9, 'agent_choice', data, '2026-01-01T00:00:00.000Z');
    expect(text(eventsBytes([event], ['{"content":"as stored"}']))).toBe(frame(storedEventOf('ses_1', 9, 'agent_choice', { content: 'as stored' }, event.timestamp)));
  });
});
