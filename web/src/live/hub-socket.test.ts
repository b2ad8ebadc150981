import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HubSocket, type HubFrame, type SocketLike } from './hub-socket.js';

/** A fake WebSocket the test drives: it records what the client sends and plays the server's part. */
class FakeSocket implements SocketLike {
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  readonly sent: HubFrame[] = [];
  closed = false;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as HubFrame);
  }
  close(): void {
    this.closed = true;
    this.onclose?.();
  }
  open(): void {
    this.onopen?.();
  }
  frame(type: string, data?: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify({ type, timestamp: 1, ...(data ? { data } : {}) }) });
  }
  /** The server drops the connection. */
  drop(): void {
    this.onclose?.();
  }
}

let sockets: FakeSocket[];
let http: 'up' | 'down' | 'unauthorized';
const make = (token?: string) =>
  new HubSocket({
    url: 'ws://x/hub/ws',
    token: () => token,
    probe: async () => http,
    open: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    backoffMs: [100, 200],
    retryRefusedMs: 5000,
  });
const last = () => sockets[sockets.length - 1] as FakeSocket;
const types = (s: FakeSocket) => s.sent.map((f) => f.type);

beforeEach(() => {
  vi.useFakeTimers();
  sockets = [];
  http = 'up';
});
afterEach(() => {
  vi.useRealTimers();
});

describe('HubSocket', () => {
  it('authenticates with the token in the first frame, then sends the subscriptions', () => {
    const hub = make('secret');
    let from = 7;
    hub.add('session:s1', { subscribe: () => ({ session_id: 's1', from_seq: from }), unsubscribe: { session_id: 's1' }, onFrame: () => undefined, onDrop: () => undefined });
    hub.topic('sessions', { onFrame: () => undefined, onLive: () => undefined, onDrop: () => undefined });
    hub.start();
    expect(hub.status).toBe('connecting');
    last().open();
    expect(last().sent).toEqual([{ type: 'auth', timestamp: expect.any(Number), data: { token: 'secret' } }]);
    last().frame('authenticated');
    expect(hub.status).toBe('open');
    expect(last().sent.slice(1).map((f) => f.data)).toEqual([{ session_id: 's1', from_seq: 7 }, { topics: ['sessions'] }]);
    from = 9;
    hub.resubscribe('session:s1');
    expect(last().sent.at(-1)?.data).toEqual({ session_id: 's1', from_seq: 9 });
  });

  it('routes frames: session and thread frames to their key, broadcasts to their topic, thread_state to both', () => {
    const hub = make();
    const got: string[] = [];
    hub.add('session:s1', { subscribe: () => ({ session_id: 's1' }), unsubscribe: {}, onFrame: (f) => got.push(`s1:${f.type}`), onDrop: () => undefined });
    hub.add('thread:t1', { subscribe: () => ({ thread_id: 't1' }), unsubscribe: {}, onFrame: (f) => got.push(`t1:${f.type}`), onDrop: () => undefined });
    hub.topic('threads', { onFrame: (f) => got.push(`threads:${f.type}`), onLive: () => got.push('threads:live'), onDrop: () => undefined });
    hub.topic('sessions', { onFrame: (f) => got.push(`sessions:${f.type}`), onLive: () => got.push('sessions:live'), onDrop: () => undefined });
    hub.start();
    last().open();
    last().frame('authenticated');
    last().frame('subscribed', { topics: ['threads', 'sessions'] });
    // A later subscribed (another topic added) does not make live topics re-read.
    last().frame('subscribed', { topics: ['threads', 'sessions'] });
    last().frame('batch', { session_id: 's1', events: [], has_more: false });
    last().frame('event', { session_id: 's1', seq: 1, type: 'user_message' });
    last().frame('session_change', { session_id: 's1', seq: 2 });
    last().frame('message', { thread_id: 't1', message_seq: 1 });
    last().frame('thread_state', { thread_id: 't1', status: 'active', last_seq: 1 });
    last().onmessage?.({ data: 'not json' });
    expect(got).toEqual([
      'threads:live',
      'sessions:live',
      's1:batch',
      's1:event',
      'sessions:session_change',
      't1:message',
      'threads:thread_state',
      't1:thread_state',
    ]);
  });

  it('after a drop: reconnecting, every subscription told, then sent again with a fresh from_seq once back', async () => {
    const hub = make();
    let from = 3;
    const drops: string[] = [];
    hub.add('session:s1', { subscribe: () => ({ session_id: 's1', from_seq: from }), unsubscribe: {}, onFrame: () => undefined, onDrop: () => drops.push('s1') });
    hub.start();
    last().open();
    last().frame('authenticated');
    last().drop();
    expect(hub.status).toBe('reconnecting');
    expect(drops).toEqual(['s1']);
    from = 12;
    await vi.advanceTimersByTimeAsync(150);
    expect(sockets).toHaveLength(2);
    last().open();
    last().frame('authenticated');
    expect(hub.status).toBe('open');
    expect(last().sent.at(-1)?.data).toEqual({ session_id: 's1', from_seq: 12 });
  });

  it('a hub that will not open while the API answers is refused (twice in a row), and tried again later', async () => {
    const hub = make();
    const seen: string[] = [];
    hub.onStatus((s) => seen.push(s));
    hub.start();
    last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(hub.status).toBe('connecting');
    await vi.advanceTimersByTimeAsync(150);
    last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(hub.status).toBe('refused');
    await vi.advanceTimersByTimeAsync(5000);
    expect(sockets).toHaveLength(3);
    last().open();
    last().frame('authenticated');
    expect(seen).toEqual(['connecting', 'refused', 'open']);
  });

  it('a server that is down is waited for (reconnecting), not refused; a refused token is unauthorized', async () => {
    const hub = make();
    hub.start();
    last().open();
    last().frame('authenticated');
    http = 'down';
    last().drop();
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(300);
      last().drop();
      await vi.advanceTimersByTimeAsync(0);
      expect(hub.status).toBe('reconnecting');
    }
    http = 'unauthorized';
    await vi.advanceTimersByTimeAsync(300);
    last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(hub.status).toBe('unauthorized');
  });

  it('a silent socket is closed and replaced; stop closes it for good', async () => {
    const hub = new HubSocket({ url: 'ws://x', token: () => undefined, probe: async () => 'up', open: () => (sockets.push(new FakeSocket()), last()), backoffMs: [100], silenceMs: 3000 });
    hub.start();
    last().open();
    last().frame('authenticated');
    await vi.advanceTimersByTimeAsync(1100);
    expect(types(last())).toContain('ping');
    await vi.advanceTimersByTimeAsync(3000);
    expect(sockets[0]?.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(sockets).toHaveLength(2);
    hub.stop();
    expect(last().closed).toBe(true);
    expect(hub.status).toBe('idle');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets).toHaveLength(2);
  });

  it('unsubscribes a key and the last listener of a topic', () => {
    const hub = make();
    const offSession = hub.add('session:s1', { subscribe: () => ({ session_id: 's1' }), unsubscribe: { session_id: 's1' }, onFrame: () => undefined, onDrop: () => undefined });
    const a = hub.topic('runner', { onFrame: () => undefined, onLive: () => undefined, onDrop: () => undefined });
    const b = hub.topic('runner', { onFrame: () => undefined, onLive: () => undefined, onDrop: () => undefined });
    hub.start();
    last().open();
    last().frame('authenticated');
    offSession();
    a();
    expect(last().sent.at(-1)).toMatchObject({ type: 'unsubscribe', data: { session_id: 's1' } });
    b();
    expect(last().sent.at(-1)).toMatchObject({ type: 'unsubscribe', data: { topics: ['runner'] } });
  });
});
