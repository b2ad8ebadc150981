import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TowerClient } from './client.js';
import { TowerApiError } from './errors.js';
import type { ReconnectInfo, ResumedInfo } from './event-stream.js';
import { StubTower } from './testing/stub-tower.js';
import { collect } from './testing/waiting.js';

let stub: StubTower;
let client: TowerClient;

beforeEach(async () => {
  stub = await StubTower.start();
  client = new TowerClient({ url: stub.url });
});

afterEach(async () => {
  await stub.close();
});

const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

function appendText(sessionId: string, count: number): void {
  for (let i = 0; i < count; i++) stub.append(sessionId, { type: 'agent_choice', content: `c${i}` });
}

describe('client.events', () => {
  it('reconnects after a mid-frame drop and resumes with Last-Event-ID, each seq once', async () => {
    const { id } = stub.addSession();
    appendText(id, 10);
    // Connection 0 sends 3 events then cuts the 4th frame in half; connection 1 sends 4 more; then no drops.
    stub.dropAfter = (n) => [3, 4][n];
    const reconnects: ReconnectInfo[] = [];
    const resumed: ResumedInfo[] = [];
    const events = await collect(
      client.events(id, {
        since: 0,
        ...FAST,
        onReconnect: (info) => reconnects.push(info),
        onResumed: (info) => resumed.push(info),
      }),
      (event) => event.seq === 10,
    );
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const eventRequests = stub.requests.filter((r) => r.path.endsWith('/events'));
    expect(eventRequests.map((r) => r.headers['last-event-id'])).toEqual(['0', '3', '7']);
    expect(reconnects.map((r) => r.lastSeq)).toEqual([3, 7]);
    expect(resumed).toEqual([{ attempts: 1, lastSeq: 3 }, { attempts: 1, lastSeq: 7 }]);
  });

  it('delivers live events appended after connecting, across a drop', async () => {
    const { id } = stub.addSession();
    stub.dropAfter = (n) => (n === 0 ? 2 : undefined);
    const iterator = client.events(id, { since: 0, ...FAST })[Symbol.asyncIterator]();
    const first = iterator.next();
    appendText(id, 5);
    const seqs = [(await first).value?.seq];
    for (let i = 0; i < 4; i++) seqs.push((await iterator.next()).value?.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    await iterator.return?.();
  });

  it('drops events at or below the last seq seen', async () => {
    const { id } = stub.addSession();
    appendText(id, 4);
    // A misbehaving server that ignores the resume position and replays from the start.
    stub.intercept = (req, res) => {
      if (!req.path.endsWith('/events')) return false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const replay = [1, 2, 3, 4, 5].map((seq) => ({ type: 'agent_choice', content: `c${seq}`, seq, session_id: id, timestamp: 't' }));
      res.end(replay.map((e) => `id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
      return true;
    };
    const events = await collect(client.events(id, { since: 2, ...FAST }), (e) => e.seq === 5);
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it('stops after session_deleted', async () => {
    const { id } = stub.addSession();
    appendText(id, 2);
    const pending = collect(client.events(id, { since: 0, ...FAST }), (e) => {
      if (e.seq === 2) void client.deleteSession(id);
      return false;
    });
    const events = await pending;
    expect(events.map((e) => e.type)).toEqual(['agent_choice', 'agent_choice', 'session_deleted']);
  });

  it('ends quietly when aborted, also while waiting for live events', async () => {
    const { id } = stub.addSession();
    appendText(id, 1);
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const event of client.events(id, { since: 0, signal: controller.signal, ...FAST })) {
      seen.push(event.seq);
      setTimeout(() => controller.abort(), 20);
    }
    expect(seen).toEqual([1]);
  });

  it('throws TowerApiError on 404 instead of retrying', async () => {
    const error = await collect(client.events('ses_missing', FAST), () => true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TowerApiError);
    expect(error).toMatchObject({ status: 404, code: 'unknown_session' });
  });

  it('retries 5xx answers (a restarting server) with growing delays', async () => {
    const { id } = stub.addSession();
    appendText(id, 1);
    let failures = 3;
    stub.intercept = (req, res) => {
      if (!req.path.endsWith('/events') || failures-- <= 0) return false;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'internal', message: 'starting' }));
      return true;
    };
    const delays: number[] = [];
    const events = await collect(client.events(id, { since: 0, ...FAST, onReconnect: (i) => delays.push(i.delayMs) }), () => true);
    expect(events.map((e) => e.seq)).toEqual([1]);
    expect(delays).toEqual([5, 10, 20]);
  });

  it('reconnects when the connection goes silent past the idle timeout', async () => {
    const { id } = stub.addSession();
    stub.dropAfter = () => undefined;
    const reasons: unknown[] = [];
    const iterator = client.events(id, { since: 0, ...FAST, idleTimeoutMs: 50, onReconnect: (i) => reasons.push(i.reason) });
    const pending = collect(iterator, (e) => e.seq === 1);
    // Wait for the silence to be noticed (polling, not a fixed sleep: a loaded machine connects slowly).
    for (let waited = 0; reasons.length === 0 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    stub.append(id, { type: 'agent_choice', content: 'late' });
    expect((await pending).map((e) => e.seq)).toEqual([1]);
    expect(reasons.length).toBeGreaterThan(0);
    expect(String(reasons[0])).toContain('no data for 50 ms');
  });

  it('passes unknown event types through without failing the stream', async () => {
    const { id } = stub.addSession();
    stub.append(id, { type: 'future_event', tool_call_id: 't1' });
    stub.append(id, { type: 'agent_choice', content: 'after' });
    const events = await collect(client.events(id, { since: 0, ...FAST }), (e) => e.seq === 2);
    expect(events[0]).toMatchObject({ type: 'unknown', event_type: 'future_event', seq: 1, data: { tool_call_id: 't1' } });
    expect(events[1]).toMatchObject({ type: 'agent_choice', content: 'after' });
  });

  it('throws when reconnect is off and the connection drops', async () => {
    const { id } = stub.addSession();
    appendText(id, 3);
    stub.dropAfter = () => 1;
    const seen: number[] = [];
    const error = await (async () => {
      for await (const event of client.events(id, { since: 0, reconnect: false })) seen.push(event.seq);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(Error);
  });
});

describe('client.sendAndFollow', () => {
  it('yields the turn from user_message to its stream_stopped', async () => {
    const { id } = stub.addSession();
    stub.append(id, { type: 'session_title', title: 'earlier' });
    const events = await collect(client.sendAndFollow(id, 'hi'), () => false);
    expect(events.map((e) => e.type)).toEqual(['user_message', 'stream_started', 'agent_choice', 'agent_choice', 'stream_stopped']);
    expect(stub.requests.find((r) => r.path.endsWith('/events'))?.headers['last-event-id']).toBe('1');
  });
});
