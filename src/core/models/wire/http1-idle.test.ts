/**
 * The plain-http client's idle pool at a burst's end (real sockets, fake timers for the sweep): what N
 * concurrent exchanges leave is kept for the next N, the surplus over recent concurrency is trimmed
 * later, the hard cap holds, and closing is spread over loop turns (never in the release path).
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { get, rawServers } from '../../../fake-models/testing/raw-http.js';
import { originKey } from './http1-connect.js';
import { idleCount, limits } from './http1-idle.js';

const serve = rawServers();
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const defaults = { ...limits };
afterEach(() => void Object.assign(limits, defaults));

/** The server holds every answer until `n` requests are in, then answers all: n exchanges end together. */
async function burstServer(n: number) {
  let held: net.Socket[] = [];
  let need = n;
  const server = await serve((socket) => {
    held.push(socket);
    if (held.length < need) return;
    for (const s of held) s.write(OK);
    held = [];
  });
  const burst = () => Promise.all(Array.from({ length: n }, () => get(server.url)));
  const key = originKey(server.url);
  const closed = () => server.sockets.filter((s) => s.destroyed || s.readableEnded).length;
  /** From now on each request is answered at once. */
  const answerEach = () => void (need = 1);
  return { server, burst, key, closed, answerEach };
}
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the idle pool after a burst', () => {
  it('keeps the N connections of N concurrent exchanges, and the next N requests reuse them', async () => {
    const { server, burst, key } = await burstServer(24);
    expect((await burst()).every((o) => o.ended)).toBe(true);
    expect(idleCount(key)).toBe(24);
    await burst();
    expect(server.connections()).toBe(24);
  });

  it('trims the surplus over recent concurrency a sweep or two later, a slice per loop turn', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    limits.closeSlice = 4;
    const { server, burst, key, closed, answerEach } = await burstServer(12);
    await burst();
    answerEach();
    // Two sweeps: the burst's concurrency is still the limit.
    vi.advanceTimersByTime(limits.sweepMs);
    await get(server.url);
    await get(server.url);
    vi.advanceTimersByTime(limits.sweepMs);
    expect(idleCount(key)).toBe(12);
    const spy = vi.spyOn(net.Socket.prototype, 'destroy');
    // The client's destroys (the server's sockets end theirs on the FIN).
    const destroyed = () => spy.mock.contexts.filter((s) => !server.sockets.includes(s as net.Socket)).length;
    // The third: one exchange at a time since then, so one connection stays, 11 go (none in the sweep itself).
    vi.advanceTimersByTime(limits.sweepMs);
    expect(idleCount(key)).toBe(1);
    expect(destroyed()).toBe(0);
    await turn();
    expect(destroyed()).toBe(4);
    await turn();
    expect(destroyed()).toBe(8);
    await turn();
    expect(destroyed()).toBe(11);
    await vi.waitFor(() => expect(closed()).toBe(11));
  });

  it('keeps no more than the hard cap; the surplus is closed, and the next burst opens only that many', async () => {
    limits.hardCap = 5;
    const { server, burst, key, closed } = await burstServer(8);
    await burst();
    expect(idleCount(key)).toBe(5);
    await vi.waitFor(() => expect(closed()).toBe(3));
    await burst();
    expect(server.connections()).toBe(11);
    expect(idleCount(key)).toBe(5);
  });

  it('expired connections are never reused, even before the sweep closes them', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { server, burst } = await burstServer(3);
    await burst();
    vi.advanceTimersByTime(4_000);
    await burst();
    expect(server.connections()).toBe(6);
  });
});
