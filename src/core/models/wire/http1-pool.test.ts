/**
 * The plain-http client's connection pool over real sockets: a request on a reused connection the
 * server had just closed is sent again (once, only before any byte of the answer), an idle connection
 * the server ends leaves the pool at once, `Keep-Alive: timeout=N` bounds reuse, and an exchange with no
 * byte for 300 s fails (fake timers: the client's timers are global ones).
 */
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { get, rawServers, record } from '../../../fake-models/testing/raw-http.js';
import { mapModelError } from '../errors.js';
import { http1Stats } from './http1.js';

const serve = rawServers();
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const retries = () => {
  const before = http1Stats.retried;
  return () => http1Stats.retried - before;
};

describe('a reused connection that turns out closed', () => {
  it('is replaced: the request goes again on a new connection', async () => {
    // The second request lands on the kept-alive connection as the server drops it (its idle timeout).
    const server = await serve((socket, i) => (i === 1 ? socket.destroy() : socket.write(OK)));
    const retried = retries();
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok', calls: ['head', 'ok', 'end'] });
    expect(server.connections()).toBe(2);
    expect(retried()).toBe(1);
  });

  it('is not replaced once a byte of the answer came, nor twice, nor when the connection was new', async () => {
    const begun = await serve((socket, i) => (i === 0 ? socket.write(OK) : socket.end('HTTP/1.1 200 OK\r\n')));
    const retried = retries();
    await get(begun.url);
    const cut = await get(begun.url);
    expect(cut.error).toMatchObject({ code: 'ECONNRESET', message: expect.stringContaining('inside the response head') });
    expect(mapModelError(cut.error).code).toBe('network_error');
    expect([begun.connections(), retried()]).toEqual([1, 0]);

    const always = await serve((socket, i) => (i === 0 ? socket.write(OK) : socket.destroy()));
    await get(always.url);
    // Reused and dropped, then sent again on a new connection, dropped too: that one is the answer.
    expect(await get(always.url)).toMatchObject({ error: { code: 'ECONNRESET', message: 'socket hang up' } });
    expect([always.connections(), retried()]).toEqual([2, 1]);
  });

  it('is out of the pool as soon as the server ends it (FIN while idle), before any reuse', async () => {
    const connect = vi.spyOn(net, 'connect');
    const server = await serve((socket) => socket.write(OK));
    const retried = retries();
    await get(server.url);
    const client = connect.mock.results[0]!.value as net.Socket;
    // The next request goes out the moment the client has read the FIN, before the socket has closed.
    const next = new Promise<Awaited<ReturnType<typeof get>>>((resolve) => client.once('end', () => void get(server.url).then(resolve)));
    server.sockets[0]!.end();
    expect(await next).toMatchObject({ ended: true, body: 'ok' });
    expect(server.connections()).toBe(2);
    // Not sent on the ended connection and then again: it never left on it.
    expect(retried()).toBe(0);
  });
});

describe('Keep-Alive: timeout=N', () => {
  const hinted = (seconds: number) => `HTTP/1.1 200 OK\r\nKeep-Alive: max=100, timeout=${seconds}\r\nContent-Length: 2\r\n\r\nok`;

  it('a connection is not reused later than the server said less a second', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const server = await serve((socket) => socket.write(hinted(2)));
    await get(server.url);
    vi.advanceTimersByTime(900);
    await get(server.url);
    expect(server.connections()).toBe(1);
    vi.advanceTimersByTime(1_000);
    await get(server.url);
    expect(server.connections()).toBe(2);
  });

  it('nor past that time when its timer has not run yet (a busy event loop)', async () => {
    // Only the clock moves: the idle timer is still pending when the next request looks in the pool.
    vi.useFakeTimers({ toFake: ['performance'] });
    const server = await serve((socket) => socket.write(hinted(2)));
    await get(server.url);
    vi.advanceTimersByTime(1_000);
    await get(server.url);
    expect(server.connections()).toBe(2);
  });

  it('a server timeout of 1 s or less is too short to reuse the connection at all', async () => {
    const server = await serve((socket) => socket.write(hinted(1)));
    await get(server.url);
    await get(server.url);
    expect(server.connections()).toBe(2);
  });
});

describe('the exchange idle timeout', () => {
  it('fails an exchange 300 s after the last byte, not counting time paused, and the server sees the close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let socket!: net.Socket;
    const server = await serve((s) => {
      socket = s;
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n');
    });
    const { exchange, out, until } = record(server.url);
    await until((o) => o.body === 'a');
    vi.advanceTimersByTime(200_000);
    socket.write('1\r\nb\r\n');
    await until((o) => o.body === 'ab');
    vi.advanceTimersByTime(290_000);
    exchange.pause();
    vi.advanceTimersByTime(400_000);
    exchange.resume();
    vi.advanceTimersByTime(10_000);
    expect(out.error).toBeUndefined();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    vi.advanceTimersByTime(10_000);
    expect(out.error).toMatchObject({ code: 'ETIMEDOUT', message: 'no data from the model server for 300 s' });
    expect(mapModelError(out.error).code).toBe('network_error');
    await closed;
    expect(out.calls).toEqual(['head', 'a', 'b', 'fail']);
  });
});
