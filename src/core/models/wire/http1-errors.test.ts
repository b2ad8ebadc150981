/**
 * The plain-http client against servers that misbehave, and callers that cancel: every case ends in
 * one `fail` with a stable code (and the step error code `mapModelError` makes of it), or in a
 * cancel that destroys the connection; never a hang, a crash, or a dirty connection back in the pool.
 */
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { get, rawServers, record } from '../../../fake-models/testing/raw-http.js';
import { collect } from '../../../fake-models/testing/rig.js';
import { mapModelError } from '../errors.js';
import { createModelRegistry } from '../registry.js';
import { http1Stats } from './http1.js';
import { WireStepper } from './wire-stepper.js';

const serve = rawServers();
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const closedBy = (socket: net.Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('a cancel (an interrupted turn)', () => {
  const POINTS = [
    ['inside the head', 'HTTP/1.1 200 OK\r\nX-Partial: ', 'immediately'],
    ['at the head', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'head'],
    ['inside the body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nb', 'a'],
  ] as const;

  it.each(POINTS)('%s destroys the connection, reports nothing more, and the next request gets a new connection', async (_name, first, at) => {
    let closed!: Promise<void>;
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const server = await serve((socket, i) => {
      if (i > 0) return void socket.write(OK);
      closed = closedBy(socket);
      socket.write(first, () => written());
    });
    const reused = http1Stats.reused;
    const { exchange, out, until } = record(server.url);
    if (at === 'immediately') await wrote;
    else await until((o) => o.calls.includes(at));
    const calls = [...out.calls];
    exchange.cancel();
    exchange.cancel();
    await closed;
    expect(out.calls).toEqual(calls);
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(server.connections()).toBe(2);
    expect(http1Stats.reused).toBe(reused);
  });
});

describe('what the server sends', () => {
  it('`Connection: close` ends the exchange at the end of the body, even if the server keeps the socket, and it is not reused', async () => {
    const server = await serve((socket) => socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'));
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    await closedBy(server.sockets[0]!);
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(server.connections()).toBe(2);
  });

  it('a chunked body written a byte at a time reads as written', async () => {
    const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab✓\r\n1;x=y\r\n!\r\n0\r\nx-t: 1\r\n\r\n';
    const server = await serve((socket) => {
      socket.setNoDelay(true);
      for (const byte of Buffer.from(response)) socket.write(Buffer.of(byte));
    });
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ab✓!' });
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ab✓!' });
    expect(server.connections()).toBe(1);
  });

  it('bytes past the declared length fail the exchange when they come with it, and close the idle connection when they come after', async () => {
    for (const response of ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok, and more', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nmore']) {
      const server = await serve((socket) => socket.write(response));
      const out = await get(server.url);
      expect(out.error).toMatchObject({ code: 'HPE_INVALID_CONSTANT', message: expect.stringMatching(/sent \d+ bytes after the end of the response body/) });
      expect(mapModelError(out.error).code).toBe('model_error');
    }
    const late = await serve((socket) => socket.write(OK));
    expect(await get(late.url)).toMatchObject({ ended: true, body: 'ok' });
    const closed = closedBy(late.sockets[0]!);
    late.sockets[0]!.write('junk');
    await closed;
    expect(await get(late.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(late.connections()).toBe(2);
  });

  const BROKEN: Array<[string, string, string, RegExp]> = [
    ['a status line that is not HTTP, with no blank line after it', 'SSH-2.0-OpenSSH_9.6\r\n', 'HPE_INVALID_CONSTANT', /not an HTTP\/1.x response from the model server: "SSH-2.0/],
    ['HTTP/2 in an HTTP/1 status line', 'HTTP/2 200 OK\r\n\r\n', 'HPE_INVALID_CONSTANT', /not an HTTP\/1.x response/],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_CONSTANT', /not an HTTP\/1.x response/],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN', /malformed response header from the model server: "no colon here"/],
    ['a head over 64 KiB that never ends', `HTTP/1.1 200 OK\r\n${'x-flood: 0123456789\r\n'.repeat(4000)}`, 'HPE_HEADER_OVERFLOW', /response head over 64 KiB/],
    ['a head over 64 KiB in one piece', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW', /response head over 64 KiB/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE', /malformed response body/],
  ];

  it.each(BROKEN)('%s fails at once (the server keeps the socket open) with a stable code', async (_name, response, code, message) => {
    let closed!: Promise<void>;
    const server = await serve((socket) => {
      closed = closedBy(socket);
      socket.write(response);
    });
    const out = await get(server.url);
    expect(out.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(mapModelError(out.error).code).toBe('model_error');
    expect(out.calls.filter((c) => c === 'fail' || c === 'end')).toEqual(['fail']);
    await closed;
  });

  it('a head cut by the close is a network error', async () => {
    const server = await serve((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Le'));
    const out = await get(server.url);
    expect(out.error).toMatchObject({ code: 'ECONNRESET', message: expect.stringContaining('inside the response head') });
    expect(mapModelError(out.error).code).toBe('network_error');
  });

  it('many headers under the limit are read, and headers named like Object properties are plain headers', async () => {
    const server = await serve((socket) =>
      socket.write(`HTTP/1.1 200 OK\r\n${'x-many: v\r\n'.repeat(3000)}Constructor: c\r\n__proto__: p\r\nToString: t\r\nContent-Length: 2\r\n\r\nok`),
    );
    const out = await get(server.url);
    expect(out).toMatchObject({ ended: true, body: 'ok' });
    const headers = out.head!.headers;
    expect(headers['x-many']!.split(', ')).toHaveLength(3000);
    expect([headers.constructor, headers.__proto__, headers.tostring]).toEqual(['c', 'p', 't']);
  });
});

describe('through the wire stepper', () => {
  it('a junk answer is one error part with a stable code, and a stale kept-alive connection is invisible', async () => {
    const sse = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n';
    const event = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\ndata: [DONE]\n\n`;
    const chunked = `${sse}${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n0\r\n\r\n`;
    // 0: a stream; 1: the kept-alive connection dropped under the request; 2: the same again, sent anew; 3: junk.
    const server = await serve((socket, i) => (i === 1 ? socket.destroy() : socket.write(i === 3 ? 'SSH-2.0-OpenSSH_9.6\r\n' : chunked)));
    const registry = createModelRegistry({ config: { providers: { raw: { type: 'openai-compatible', base_url: new URL('/v1', server.url).href, api_key: 'k' } } }, env: {} });
    const step = () => collect(new WireStepper(registry).step({ model: 'raw/m', messages: [{ role: 'user', content: 'hi' }], tools: [], signal: new AbortController().signal }));
    for (let round = 0; round < 2; round++) {
      const parts = await step();
      expect(parts[0]).toEqual({ type: 'text', delta: 'hi' });
      expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    }
    expect(await step()).toEqual([{ type: 'error', code: 'model_error', message: expect.stringMatching(/^not an HTTP\/1.x response from the model server/) }]);
  });
});
