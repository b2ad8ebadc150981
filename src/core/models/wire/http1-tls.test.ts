/**
 * Tower's model client over `https:` (`http1.ts` over node:tls, `http1-connect.ts`), against real TLS
 * servers on port 0 presenting the test certificate (`fake-models/testing/tls/`, CN/SAN 127.0.0.1 and
 * localhost), which the client trusts only where a test says so (`trustModelCa`): the same pool, retry and
 * failure rules as over `http:`, certificate and host-name checks on, and the wire path over it equal to
 * the same path over node:https on the fake servers of both formats.
 */
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closedPort, get, rawServers, record } from '../../../fake-models/testing/raw-http.js';
import { PROVIDER_CASES, startRig } from '../../../fake-models/testing/rig.js';
import { TEST_TLS } from '../../../fake-models/testing/tls.js';
import { CLIENT_SCRIPTS, abortAtFirstPart, twoSteps } from '../../../fake-models/testing/wire-runs.js';
import { mapModelError } from '../errors.js';
import { useModelHttpClient } from './http.js';
import { http1Stats } from './http1.js';
import { originKey, trustModelCa } from './http1-connect.js';
import { idleCount } from './http1-idle.js';

const serve = rawServers();
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const TLS = { tls: TEST_TLS };
beforeEach(() => trustModelCa(TEST_TLS.cert));
afterEach(() => {
  trustModelCa(undefined);
  useModelHttpClient('http1');
});

/** The client side of each TLS connection the client opens from now on. */
const clientSockets = (): (() => tls.TLSSocket[]) => {
  const connect = vi.spyOn(tls, 'connect');
  return () => connect.mock.results.map((r) => r.value as tls.TLSSocket);
};

describe('https: over node:tls', () => {
  it('negotiates http/1.1, sends SNI for a name and none for an IP, and pools per scheme, host and port', async () => {
    const server = await serve((socket) => socket.write(OK), { tls: true });
    const byIp = server.url;
    const byName = new URL(server.url.href.replace('127.0.0.1', 'localhost'));
    for (const url of [byIp, byIp, byName, byName]) expect(await get(url)).toMatchObject({ ended: true, body: 'ok' });
    // One connection per origin, each reused once.
    expect(server.connections()).toBe(2);
    const [ip, name] = server.sockets as tls.TLSSocket[];
    expect([ip!.alpnProtocol, ip!.servername, name!.alpnProtocol, name!.servername]).toEqual(['http/1.1', false, 'http/1.1', 'localhost']);
    expect([idleCount(originKey(byIp)), idleCount(originKey(byName)), originKey(byIp)]).toEqual([1, 1, `https://127.0.0.1:${byIp.port}`]);
  });

  it('a request on a reused connection the server dropped is sent again on a new one', async () => {
    const server = await serve((socket, i) => (i === 1 ? socket.destroy() : socket.write(OK)), { tls: true });
    const retried = http1Stats.retried;
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok', calls: ['head', 'ok', 'end'] });
    expect([server.connections(), http1Stats.retried - retried]).toEqual([2, 1]);
  });

  it('an idle connection the server ends leaves the pool before any reuse, and the next one resumes the TLS session', async () => {
    const sockets = clientSockets();
    const server = await serve((socket) => socket.write(OK), { tls: true });
    const retried = http1Stats.retried;
    await get(server.url);
    expect(sockets()[0]!.isSessionReused()).toBe(false);
    const next = new Promise<Awaited<ReturnType<typeof get>>>((resolve) => sockets()[0]!.once('end', () => void get(server.url).then(resolve)));
    server.sockets[0]!.end();
    expect(await next).toMatchObject({ ended: true, body: 'ok' });
    expect([server.connections(), http1Stats.retried - retried]).toEqual([2, 0]);
    expect([sockets().length, sockets()[1]!.isSessionReused()]).toEqual([2, true]);
  });

  it('a cancel inside the body destroys the connection (the server sees it) and the next request opens another', async () => {
    const server = await serve((socket, i) => socket.write(i === 0 ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n' : OK), { tls: true });
    const { exchange, out, until } = record(server.url);
    await until((o) => o.body === 'a');
    const closed = new Promise((resolve) => server.sockets[0]!.once('close', resolve));
    exchange.cancel();
    await closed;
    expect(out.calls).toEqual(['head', 'a']);
    expect(await get(server.url)).toMatchObject({ ended: true, body: 'ok' });
    expect(server.connections()).toBe(2);
  });
});

describe('https: failures', () => {
  const refused = async (url: URL, code: string, message: RegExp) => {
    const out = await get(url);
    expect(out.error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(out.calls).toEqual(['fail']);
    expect(idleCount(originKey(url))).toBe(0);
    return out.error;
  };

  it('an untrusted certificate is refused with its code, as a model_error (not a network error to retry)', async () => {
    trustModelCa(undefined);
    const server = await serve((socket) => socket.write(OK), { tls: true });
    const error = await refused(server.url, 'DEPTH_ZERO_SELF_SIGNED_CERT', /^the TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
    expect(mapModelError(error)).toEqual({ code: 'model_error', message: error!.message });
    expect(server.connections()).toBe(0);
  });

  it('a certificate for another host is refused (the host name is checked)', async () => {
    // Trusted, but issued for 127.0.0.1 and localhost, not 127.0.0.2.
    const server = await serve((socket) => socket.write(OK), { tls: true, host: '127.0.0.2' });
    const error = await refused(server.url, 'ERR_TLS_CERT_ALTNAME_INVALID', /failed: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.2 is not in the cert's list/);
    expect(mapModelError(error).code).toBe('model_error');
  });

  it('a server that speaks no TLS is a handshake failure, and a refused connection stays a network error', async () => {
    // As a plain HTTP server answers a ClientHello.
    const plain = net.createServer((socket) => socket.resume().end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const at = new URL(`https://127.0.0.1:${(plain.address() as AddressInfo).port}/`);
    const error = await refused(at, 'EPROTO', /^the TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed: [\s\S]*wrong version number/);
    await new Promise((resolve) => plain.close(resolve));
    expect(mapModelError(error).code).toBe('model_error');
    const port = await closedPort();
    const down = await get(new URL(`https://127.0.0.1:${port}/`));
    expect(down.error).toMatchObject({ code: 'ECONNREFUSED', message: expect.not.stringContaining('TLS') });
    expect(mapModelError(down.error).code).toBe('network_error');
  });

  it('a non-http(s) URL is refused synchronously, as node refuses it', () => {
    expect(() => get(new URL('ftp://127.0.0.1/'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PROTOCOL' }));
  });
});

describe.each(PROVIDER_CASES)('the wire path over https: ($providerType)', ({ providerType, format }) => {
  it.each(CLIENT_SCRIPTS)('%s: the same parts over Tower\'s client as over node:https, on one connection', async (_name, script) => {
    const node = await twoSteps('node', providerType, format, script, TLS);
    const connections = http1Stats.connections;
    const own = await twoSteps('http1', providerType, format, script, TLS);
    // An error part ends the step and drops the rest of the body, so the connection with it.
    expect(http1Stats.connections - connections).toBe(script.stream_error ? 2 : 1);
    expect(own).toEqual(node);
    for (const parts of own) expect(parts.filter((p) => p.type === 'finish' || p.type === 'error')).toHaveLength(1);
  });

  it('an abort mid-stream ends the step without a terminal part and the server sees the disconnect', async () => {
    const { parts, aborted } = await abortAtFirstPart(providerType, format, TLS);
    expect(parts).toEqual([{ type: 'text', delta: expect.stringMatching(/^before/) }]);
    expect(aborted).toEqual([0]);
  });

  it('an untrusted certificate is one error part with a stable code, over either client', async () => {
    trustModelCa(undefined);
    for (const client of ['http1', 'node'] as const) {
      useModelHttpClient(client);
      const rig = await startRig(providerType, format, [{ text: 'never sent' }], 'wire', TLS);
      try {
        const parts = [];
        for await (const part of rig.stepper.step({ model: rig.model, messages: [{ role: 'user', content: 'hi' }], tools: [], signal: new AbortController().signal })) parts.push(part);
        expect(parts).toEqual([{ type: 'error', code: 'model_error', message: expect.stringContaining('self-signed certificate') }]);
        expect(rig.server.requests).toEqual([]);
      } finally {
        await rig.server.close();
      }
    }
  });
});
