/** Shared by the plain-http client's tests (`core/models/wire/http1*.test.ts`): raw TCP servers and a recorder of one exchange. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, vi } from 'vitest';
import { closeIdleConnections, http1Request, type Http1Exchange, type Http1Head } from '../../core/models/wire/http1.js';
import { TEST_TLS } from './tls.js';

export interface RawServer {
  url: URL;
  server: net.Server;
  /** The server side of each connection, in the order they came. */
  sockets: net.Socket[];
  connections(): number;
  close(): Promise<void>;
}

export interface RawServerOptions {
  /** TLS with `TEST_TLS` (ALPN `http/1.1`): the URL is `https:`, `sockets` are TLSSockets. */
  tls?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
}

/** A TCP server that answers each request (read up to its blank line) with `answer(socket, requestIndex)`. */
export async function rawServer(answer: (socket: net.Socket, index: number) => void, options: RawServerOptions = {}): Promise<RawServer> {
  const sockets: net.Socket[] = [];
  let requests = 0;
  const onSocket = (socket: net.Socket) => {
    sockets.push(socket);
    let seen = '';
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      while (seen.includes('\r\n\r\n')) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
        answer(socket, requests++);
      }
    });
    socket.on('error', () => {});
  };
  const server = options.tls ? tls.createServer({ ...TEST_TLS, ALPNProtocols: ['http/1.1'] }, onSocket) : net.createServer(onSocket);
  // A client that refuses the certificate leaves the server a handshake error: not the test's failure.
  server.on('tlsClientError', () => {});
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  server.unref();
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  const url = new URL(`${options.tls ? 'https' : 'http'}://${host}:${(server.address() as AddressInfo).port}/v1/x?q=1`);
  return { url, server, sockets, connections: () => sockets.length, close };
}

/**
 * `rawServer` for one test file: after each test the client's idle connections (which would hold a
 * server's close for their 4 s) and the servers are closed, and real timers and unmocked functions are back.
 */
export function rawServers(): typeof rawServer {
  const open: RawServer[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    closeIdleConnections();
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (answer, options) => {
    const server = await rawServer(answer, options);
    open.push(server);
    return server;
  };
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Outcome {
  head?: Http1Head;
  body: string;
  ended: boolean;
  error?: Error & { code?: string };
  /** Every handler call in order: `head`, the body pieces, `end` or `fail`. */
  calls: string[];
}

/** One exchange whose handler calls are recorded; `until` resolves once `done(outcome)` holds (checked on each call). */
export function record(url: URL, headers: Record<string, string> = {}): { exchange: Http1Exchange; out: Outcome; until(done: (out: Outcome) => boolean): Promise<Outcome> } {
  const out: Outcome = { body: '', ended: false, calls: [] };
  const waiters: Array<() => void> = [];
  const changed = () => waiters.splice(0).forEach((wake) => wake());
  const exchange = http1Request(url, 'GET', headers, undefined, {
    head: (head) => {
      out.head = head;
      out.calls.push('head');
      changed();
    },
    body: (text) => {
      out.body += text;
      out.calls.push(text);
      changed();
    },
    end: () => {
      out.ended = true;
      out.calls.push('end');
      changed();
    },
    fail: (error) => {
      out.error = error;
      out.calls.push('fail');
      changed();
    },
  });
  const until = (done: (o: Outcome) => boolean): Promise<Outcome> =>
    new Promise((resolve) => {
      const check = () => (done(out) ? resolve(out) : waiters.push(check));
      check();
    });
  return { exchange, out, until };
}

/** A GET to its end or failure. */
export const get = (url: URL, headers: Record<string, string> = {}): Promise<Outcome> => record(url, headers).until((o) => o.ended || o.error !== undefined);
