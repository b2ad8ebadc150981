/**
 * Tower's plain-http client (`http1.ts`): framing, keep-alive and failures against raw servers, and the
 * wire path over it against the same path over node:http, on the fake servers of both formats.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, get, rawServers, type Outcome } from '../../../fake-models/testing/raw-http.js';
import { PROVIDER_CASES } from '../../../fake-models/testing/rig.js';
import { CLIENT_SCRIPTS, abortAtFirstPart, twoSteps } from '../../../fake-models/testing/wire-runs.js';
import { useModelHttpClient } from './http.js';
import { http1Request } from './http1.js';

const serve = rawServers();
const plain: net.Server[] = [];
afterEach(async () => {
  useModelHttpClient('http1');
  await Promise.all(plain.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('http1Request', () => {
  it('reads a chunked answer after a 100 Continue, joins repeated headers, and reuses the connection', async () => {
    const server = await serve((socket, i) =>
      socket.write(
        `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Twice: a\r\nx-twice: b\r\nTransfer-Encoding: chunked\r\n\r\n` + `5\r\nhello\r\n${i === 0 ? '0\r\n\r\n' : '4\r\n ✓\r\n0\r\n\r\n'}`,
      ),
    );
    const first = await get(server.url);
    expect(first).toMatchObject({ ended: true, body: 'hello', head: { status: 200, statusText: 'OK', headers: { 'x-twice': 'a, b' } } });
    const second = await get(server.url);
    expect(second).toMatchObject({ ended: true, body: 'hello ✓' });
    expect(server.connections()).toBe(1);
  });

  it('does not reuse a connection the server closes, and reads a body without length until the close', async () => {
    const server = await serve((socket, i) => {
      if (i === 0) socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
      else socket.end('HTTP/1.0 200 OK\r\n\r\nuntil the close');
    });
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'until the close' });
    expect(server.connections()).toBe(2);
  });

  it('sends the request line, host and headers as node would', async () => {
    let seen = '';
    const server = net.createServer((socket) =>
      socket.on('data', (d) => {
        seen += d.toString();
        if (seen.endsWith('{"a":1}')) socket.end('HTTP/1.1 204 No Content\r\n\r\n');
      }),
    );
    plain.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat?x=1`);
    const out = await new Promise<Outcome>((resolve) => {
      http1Request(url, 'POST', { 'content-type': 'application/json', 'content-length': '7' }, '{"a":1}', {
        head: () => {},
        body: () => {},
        end: () => resolve({ body: '', ended: true, calls: [] }),
        fail: (error) => resolve({ body: '', ended: false, error, calls: [] }),
      });
    });
    expect(out.ended).toBe(true);
    expect(seen).toBe(`POST /v1/chat?x=1 HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}`);
  });

  it('refuses a header Node would refuse, synchronously', () => {
    const url = new URL('http://127.0.0.1:9/');
    const handlers = { head: () => {}, body: () => {}, end: () => {}, fail: () => {} };
    expect(() => http1Request(url, 'GET', { authorization: 'Bearer a\nb' }, undefined, handlers)).toThrow(/invalid character/i);
    expect(() => http1Request(url, 'GET', { 'bad name': 'x' }, undefined, handlers)).toThrow(/header name/i);
  });

  it('fails a body cut short, a connection hung up before the head, a broken head and a refused connection', async () => {
    const cut = await serve((socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'));
    expect(await get(cut.url)).toMatchObject({ body: 'hel', error: { code: 'ECONNRESET', message: expect.stringContaining('closed the connection mid-stream') } });
    const hangUp = await serve((socket) => socket.destroy());
    expect(await get(hangUp.url)).toMatchObject({ error: { code: 'ECONNRESET', message: 'socket hang up' } });
    const broken = await serve((socket) => socket.write('SMTP ready\r\n\r\n'));
    expect((await get(broken.url)).error?.message).toMatch(/not an HTTP\/1.x response/);
    const port = await closedPort();
    expect(await get(new URL(`http://127.0.0.1:${port}/`))).toMatchObject({ error: { code: 'ECONNREFUSED' } });
  });
});

describe.each(PROVIDER_CASES)('the wire path over http1.ts = over node:http ($providerType)', ({ providerType, format }) => {
  it.each(CLIENT_SCRIPTS)('%s', async (_name, script) => {
    const node = await twoSteps('node', providerType, format, script);
    const own = await twoSteps('http1', providerType, format, script);
    expect(own).toEqual(node);
    for (const parts of own) expect(parts.filter((p) => p.type === 'finish' || p.type === 'error')).toHaveLength(1);
  });

  it('an abort mid-stream ends the step without a terminal part and the server sees the disconnect', async () => {
    const { parts, aborted } = await abortAtFirstPart(providerType, format);
    expect(parts).toEqual([{ type: 'text', delta: expect.stringMatching(/^before/) }]);
    expect(aborted).toEqual([0]);
  });
});
