import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { EventLog, type SinkSubscription } from '../../core/event-log/index.js';
import { appendMany, fixture, range, type Fixture } from '../../core/event-log/test-helpers.js';
import { WriteSlices } from '../write-slices.js';
import { Outbox, type RawSocket } from './outbox.js';
import { SessionFeed } from './session-feed.js';
import { frameTexts, type EncodedFrame } from './ws-frame.js';

/**
 * A session fanned out to many hub connections through a real event log, with a write budget of zero:
 * every connection after the first of a slice has its frames held for a later turn.
 */
interface Conn {
  seqs: number[];
  outbox: Outbox;
  target: { outbox: Outbox; closed: boolean };
  sub: SinkSubscription;
  /** Write callbacks held back (a reader that stopped reading); `release` completes them. */
  stall(): void;
  release(): void;
  until(seq: number): Promise<void>;
}

function connect(log: EventLog, slices: WriteSlices, limit: number, liveQueueLimit: number): Conn {
  const seqs: number[] = [];
  let stalled = false;
  const held: (() => void)[] = [];
  let waiting: { seq: number; resolve: () => void } | undefined;
  const record = (text: string): void => {
    const f = JSON.parse(text) as { type: string; data: { seq?: number; events?: { seq: number }[] } };
    if (f.type === 'event' && f.data.seq !== undefined) seqs.push(f.data.seq);
    if (f.type === 'batch') seqs.push(...(f.data.events ?? []).map((e) => e.seq));
    if (waiting && (seqs[seqs.length - 1] ?? 0) >= waiting.seq) waiting.resolve();
  };
  const done = (cb: () => void): void => {
    if (stalled) held.push(cb);
    else queueMicrotask(cb);
  };
  const ws = { readyState: 1, send: (t: string, cb: () => void) => (record(t), done(cb)) } as unknown as WebSocket;
  const raw: RawSocket = {
    cork: () => undefined,
    uncork: () => undefined,
    write: (bytes, cb) => {
      for (const text of frameTexts(bytes as EncodedFrame)) record(text);
      done(cb);
      return true;
    },
  };
  const outbox = new Outbox(ws, limit, raw, slices);
  const target = { outbox, closed: false };
  const feed = new SessionFeed(target, 's1', 0, 0, () => undefined);
  const sub = log.subscribeSink('s1', 0, feed, { paused: true, liveQueueLimit });
  feed.start(sub);
  return {
    seqs,
    outbox,
    target,
    sub,
    stall: () => void (stalled = true),
    release: () => {
      stalled = false;
      for (const cb of held.splice(0)) cb();
    },
    until: (seq) => ((seqs[seqs.length - 1] ?? 0) >= seq ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { seq, resolve }))),
  };
}

describe('hub fan-out spread over write slices', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  it('delivers every commit to every connection, in order, exactly once', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const slices = new WriteSlices(0);
    const conns = Array.from({ length: 20 }, () => connect(log, slices, 1000, 1024));
    await appendMany(log, 's1', 200, 5);
    await Promise.all(conns.map((c) => c.until(200)));
    for (const c of conns) expect(c.seqs).toEqual(range(1, 200));
    expect(slices.deferrals).toBeGreaterThan(20);
  });

  it('a connection that stops reading still falls behind into catch-up from the store, and gets everything once it reads again', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const slices = new WriteSlices(0);
    const conns = Array.from({ length: 5 }, () => connect(log, slices, 8, 16));
    const slow = conns[0]!;
    slow.stall();
    await appendMany(log, 's1', 300, 3);
    await Promise.all(conns.slice(1).map((c) => c.until(300)));
    // Bounded: at most one delivery past the limit is handed to the socket.
    expect(slow.outbox.maxBacklog).toBeLessThanOrEqual(8 + 3);
    expect(slow.seqs.length).toBeLessThan(300);
    slow.release();
    await slow.until(300);
    expect(slow.sub.stats.overflows).toBeGreaterThan(0);
    for (const c of conns) expect(c.seqs).toEqual(range(1, 300));
  });

  it('a connection closed while its frames wait for a slice gets nothing more; the others get everything', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    const slices = new WriteSlices(0);
    const conns = Array.from({ length: 10 }, () => connect(log, slices, 1000, 1024));
    await appendMany(log, 's1', 10, 10);
    await Promise.all(conns.map((c) => c.until(10)));
    // The commit is handed to all ten in one turn: all but the first wait for a slice, one a turn.
    const gone = conns[9]!;
    const commit = appendMany(log, 's1', 5, 5);
    for (let turns = 0; turns < 100 && gone.outbox.backlog === 0 && gone.seqs.length < 15; turns++) await new Promise((r) => setImmediate(r));
    await commit;
    // Its frames are counted (sent) but still held: none reached the socket.
    expect(gone.outbox.backlog).toBe(5);
    expect(gone.seqs).toEqual(range(1, 10));
    gone.target.closed = true;
    gone.outbox.close();
    gone.sub.close();
    await Promise.all(conns.slice(0, 9).map((c) => c.until(15)));
    for (const c of conns.slice(0, 9)) expect(c.seqs).toEqual(range(1, 15));
    await appendMany(log, 's1', 5, 5);
    await Promise.all(conns.slice(0, 9).map((c) => c.until(20)));
    expect(gone.seqs).toEqual(range(1, 10));
  });
});
