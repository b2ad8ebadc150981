import { validateHeaderName, validateHeaderValue } from 'node:http';
import type net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { readBody, type BodyReader } from './http1-body.js';
import { connect, handshakeError, originKey } from './http1-connect.js';
import { codeError, headEnd, keepAliveIdleMs, notHttp, parseHead, type Http1Head } from './http1-head.js';
import { closeAll, dropIdle, exchangeEnded, exchangeStarted, putIdle, retire, takeIdle, type Pooled } from './http1-idle.js';

export { codeError, type Http1Head };

/** What one exchange reports. After `end` or `fail`, or after `cancel()`, nothing more is called. */
export interface Http1Handlers {
  head(head: Http1Head): void;
  /** A piece of the body, decoded as UTF-8 (a character split across reads or chunks is kept whole). */
  body(text: string): void;
  end(): void;
  fail(error: Error): void;
}

export interface Http1Exchange {
  pause(): void;
  resume(): void;
  /** Ends the exchange at once: the connection is destroyed (the server sees the disconnect). */
  cancel(): void;
}

/** No byte for this long (while the exchange is not paused) fails the exchange (`ETIMEDOUT`). */
export const EXCHANGE_IDLE_MS = 300_000;
/**
 * The exchange's silence is counted in ticks of this (a timer per exchange, not one refreshed per read
 * as `socket.setTimeout` is): it fails 300-310 s after the last byte.
 */
const SILENCE_TICK_MS = 10_000;
/** An idle keep-alive connection is closed after this (under node's and most servers' 5 s). */
const POOL_IDLE_MS = 4_000;
/** A response head larger than this is refused (node's default `maxHeaderSize` is 16 KiB). */
const MAX_HEAD = 64 * 1024;

/** Counters since the start (tests and diagnostics): connections opened, reused from the pool, requests sent again. */
export const http1Stats = { connections: 0, reused: 0, retried: 0 };

/**
 * Every connection reads into this one buffer (`onread`): a read is consumed synchronously, before the
 * next read of any socket can run, so one buffer serves them all.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * A minimal HTTP/1.1 client for the model streams, over `http:` (local and in-cluster model servers, the
 * fake servers of the tests and benchmarks) and `https:` (the providers' APIs; TLS set up as node's
 * https agent sets it up, `http1-connect.ts`). node:http pays, per socket read, a socket
 * Readable, llhttp's C++ round trip and a second Readable (IncomingMessage) before the body reaches
 * Tower; here the socket hands its reads straight to a callback (`onread`: no stream machinery) and the
 * body framing (chunked, content-length, close-delimited) is a small state machine over the bytes
 * (`http1-body.ts`). Connections are kept alive per origin (scheme, host, port), as node's global agents
 * keep them; a request
 * whose reused connection turns out to be closed is sent once more on a new one (`Conn.lost`).
 */
export function http1Request(url: URL, method: string, headers: Record<string, string>, body: string | undefined, handlers: Http1Handlers): Http1Exchange {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw Object.assign(new TypeError(`Protocol "${url.protocol}" not supported. Expected "http:" or "https:"`), { code: 'ERR_INVALID_PROTOCOL' });
  }
  const call = new Call(url, method, serialise(url, method, headers, body), handlers);
  call.send(takeIdle(call.key) as Conn | undefined);
  return call;
}

/** Closes every idle connection (tests, shutdown): nothing of the pool outlives this. */
export function closeIdleConnections(): void {
  closeAll();
}

/** Node refuses these requests synchronously; so does this (same error classes and codes). */
function serialise(url: URL, method: string, headers: Record<string, string>, body: string | undefined): string {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
  if (!('host' in headers)) head += `host: ${url.host}\r\n`;
  for (const name in headers) {
    const value = headers[name] as string;
    validateHeaderName(name);
    validateHeaderValue(name, value);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n${body ?? ''}`;
}

/** The exchange the caller holds: one request, on one connection or, after a stale reused one, on a second. */
class Call implements Http1Exchange {
  readonly key: string;
  conn: Conn | undefined;
  paused = false;

  constructor(
    readonly url: URL,
    readonly method: string,
    readonly request: string,
    readonly handlers: Http1Handlers,
  ) {
    this.key = originKey(url);
  }

  /** Sends the request on `idle` (a pooled connection) or on a new connection. */
  send(idle: Conn | undefined): void {
    const conn = idle ?? new Conn(this.key, this.url);
    this.conn = conn;
    conn.start(this, idle !== undefined);
    conn.socket.write(this.request);
  }

  pause(): void {
    this.paused = true;
    if (this.conn?.call === this) this.conn.socket.pause();
  }

  resume(): void {
    this.paused = false;
    if (this.conn?.call === this) this.conn.socket.resume();
  }

  cancel(): void {
    if (this.conn?.call === this) this.conn.abandon();
  }
}

/** One connection: idle in the pool, or carrying one exchange. */
class Conn implements Pooled {
  readonly socket: net.Socket;
  call: Call | undefined;
  /** This exchange's connection came from the pool. */
  private reused = false;
  /** A byte of this exchange's response arrived. */
  private received = false;
  private headText = '';
  private reader: BodyReader | undefined;
  private decoder: StringDecoder | undefined;
  private keepAlive = false;
  /** How long the connection may stay idle after this exchange (`Keep-Alive: timeout` can shorten it). */
  private idleMs = POOL_IDLE_MS;
  private idle = false;
  /** A TLS connection between its TCP connect and the end of its handshake (a failure then says so). */
  private handshaking = false;
  /** `performance.now()` after which the idle connection is not reused (the pool's sweep closes it). */
  private expires = 0;
  private ticker: NodeJS.Timeout | undefined;
  /** Silence ticks since the last read. */
  private silent = 0;
  /**
   * One piece of the body (an HTTP chunk, or what a read holds of it) to the handler, as node:http hands
   * over each chunk: the turn budget (`turn-budget.ts`) admits them one by one. Decoded as one string
   * when it ends on an ASCII byte (an SSE event ends with a newline, so nearly every one): it cannot end
   * inside a character. The first piece that does not takes a decoder, kept from then on (it holds the
   * character's first bytes). False once the exchange is over (cancelled by the handler).
   */
  private readonly piece = (buf: Buffer, start: number, end: number): boolean => {
    const call = this.call as Call;
    const text =
      this.decoder === undefined && (buf[end - 1] as number) < 0x80 ? buf.toString('utf8', start, end) : (this.decoder ??= new StringDecoder('utf8')).write(buf.subarray(start, end));
    if (text.length > 0) call.handlers.body(text);
    return this.call === call;
  };
  private readonly tick = (): void => {
    if (this.call === undefined || this.call.paused) return;
    if (++this.silent * SILENCE_TICK_MS > EXCHANGE_IDLE_MS) this.fail(codeError(`no data from the model server for ${EXCHANGE_IDLE_MS / 1000} s`, 'ETIMEDOUT'));
  };

  constructor(
    readonly key: string,
    url: URL,
  ) {
    http1Stats.connections++;
    this.socket = connect(url, key, { buffer: READ_BUFFER, callback: (n) => this.read(n, READ_BUFFER) }, (yes) => (this.handshaking = yes));
    this.socket.setNoDelay(true);
    this.socket.on('error', (error) => this.lost(this.handshaking ? handshakeError(key, error) : error));
    this.socket.on('close', () => this.lost(undefined));
    // The server's FIN on an idle connection: out of the pool now, not when the close completes; the
    // destroy is the pool's, a slice per turn (a server's keep-alive timers end many at once).
    this.socket.on('end', () => {
      if (!this.idle) return;
      this.idle = false;
      retire(this);
    });
  }

  start(call: Call, reused: boolean): void {
    if (reused) {
      http1Stats.reused++;
      this.idle = false;
      this.socket.ref();
    }
    exchangeStarted(this.key);
    this.call = call;
    this.reused = reused;
    this.received = false;
    this.headText = '';
    this.reader = undefined;
    this.decoder = undefined;
    this.idleMs = POOL_IDLE_MS;
    this.silent = 0;
    // Unref'd as node's socket timeouts are: the socket, not its timer, keeps the process alive.
    this.ticker = setInterval(this.tick, SILENCE_TICK_MS).unref();
    if (call.paused) this.socket.pause();
  }

  /** Not ended by the server, not past its idle time. */
  reusable(now: number): boolean {
    return now < this.expires && !this.socket.destroyed && this.socket.writable && !this.socket.readableEnded;
  }

  /** The caller cancelled: the connection goes (what it was sent is unknown). */
  abandon(): void {
    this.over();
    this.socket.destroy();
  }

  /** An idle connection leaves the pool and closes. */
  discard(): void {
    if (!this.idle) return;
    this.idle = false;
    dropIdle(this);
    this.socket.destroy();
  }

  /** The pool closes it (idle, expired or retired). */
  close(): void {
    this.idle = false;
    this.socket.destroy();
  }

  /** The exchange is over: nothing more is reported for it. */
  private over(): void {
    if (this.call !== undefined) exchangeEnded(this.key);
    this.call = undefined;
    clearInterval(this.ticker);
  }

  /** One socket read, in `buf[0, n)`. True: keep reading (`onread` pauses the socket on false). */
  private read(n: number, buf: Buffer): true {
    this.silent = 0;
    const call = this.call;
    if (call === undefined) {
      // Bytes on an idle connection (or after a cancel): not a response to anything; not reusable.
      this.discard();
      this.socket.destroy();
      return true;
    }
    let at = 0;
    if (this.reader === undefined) {
      this.received = true;
      at = this.readHead(n, buf);
      if (at < 0) return true;
    }
    const reader = this.reader as BodyReader;
    const used = reader.read(buf, at, n, this.piece);
    if (this.call !== call) return true;
    if (used instanceof Error) this.fail(used);
    else if (reader.done) this.finish(used, n);
    return true;
  }

  /** Reads the status line and headers; returns where the body starts in `buf`, or -1 (more to come, or over). */
  private readHead(n: number, buf: Buffer): number {
    let from = 0;
    for (;;) {
      const searched = this.headText.length;
      this.headText += buf.toString('latin1', from, n);
      const end = headEnd(this.headText, searched);
      if (end === undefined) {
        const error = notHttp(this.headText) ?? (this.headText.length > MAX_HEAD ? codeError('the model server sent a response head over 64 KiB', 'HPE_HEADER_OVERFLOW') : undefined);
        if (error !== undefined) this.fail(error);
        return -1;
      }
      const bodyAt = from + end[1] - searched;
      const head = end[0] > MAX_HEAD ? codeError('the model server sent a response head over 64 KiB', 'HPE_HEADER_OVERFLOW') : parseHead(this.headText.slice(0, end[0]));
      if (head instanceof Error) {
        this.fail(head);
        return -1;
      }
      this.headText = '';
      // 1xx (but 101) are interim: the real head follows.
      if (head.head.status >= 100 && head.head.status < 200 && head.head.status !== 101) {
        from = bodyAt;
        continue;
      }
      const { headers, status } = head.head;
      const connection = (headers.connection ?? '').toLowerCase();
      this.keepAlive = head.minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
      this.idleMs = keepAliveIdleMs(headers['keep-alive'], POOL_IDLE_MS);
      if (this.idleMs === 0) this.keepAlive = false;
      const noBody = this.call!.method === 'HEAD' || status === 204 || status === 304;
      this.reader = readBody(noBody, headers['transfer-encoding'], headers['content-length']);
      if (this.reader.untilClose) this.keepAlive = false;
      const call = this.call as Call;
      call.handlers.head(head.head);
      if (this.call !== call) return -1;
      if (this.reader.done) {
        this.finish(bodyAt, n);
        return -1;
      }
      return bodyAt;
    }
  }

  /** The body ended at `used` in a read of `n` bytes: bytes after it are not part of any answer. */
  private finish(used: number, n: number): void {
    if (used < n) {
      // More than the framing announced (a wrong Content-Length, bytes after the last chunk): the body
      // may be cut, so the exchange fails rather than ending as if complete (node:http fails it too).
      return this.fail(codeError(`the model server sent ${n - used} bytes after the end of the response body`, 'HPE_INVALID_CONSTANT'));
    }
    const call = this.call as Call;
    const rest = this.decoder?.end();
    if (rest) call.handlers.body(rest);
    if (this.call !== call) return;
    this.over();
    if (this.keepAlive && !this.socket.destroyed) this.release();
    else this.socket.destroy();
    call.handlers.end();
  }

  /** Into the pool (`http1-idle.ts`: no timer per connection, nothing destroyed here). */
  private release(): void {
    this.idle = true;
    this.expires = performance.now() + this.idleMs;
    // An idle connection does not keep the process alive (as node's agent unrefs its free sockets).
    this.socket.unref();
    // Read while idle: the server's FIN (or junk) is seen, and the connection dropped, before reuse.
    this.socket.resume();
    putIdle(this);
  }

  private fail(error: Error): void {
    const call = this.call;
    this.over();
    this.socket.destroy();
    call?.handlers.fail(error);
  }

  /** The socket failed or closed: an idle one leaves the pool; a live exchange ends, or is sent again. */
  private lost(error: (Error & { code?: string }) | undefined): void {
    if (this.idle) return this.discard();
    const call = this.call;
    if (call === undefined) return;
    const reader = this.reader;
    if (reader?.untilClose && error === undefined) {
      reader.done = true;
      return this.finish(0, 0);
    }
    if (this.reused && !this.received) {
      // A pooled connection that died before any byte of the answer: the server closed it while idle
      // (its keep-alive timeout) as the request went out, so it never answered it. Sent once more on a
      // new connection, which is never retried (a fresh connection that fails is the server's answer).
      // Go's transport retries the same case; the AI SDK retries whole model calls on network errors.
      this.over();
      this.socket.destroy();
      http1Stats.retried++;
      return call.send(undefined);
    }
    if (reader === undefined) {
      if (this.headText !== '') return this.fail(codeError(`the model server closed the connection inside the response head${error ? ` (${error.message})` : ''}`, error?.code ?? 'ECONNRESET'));
      return this.fail(error ?? codeError('socket hang up', 'ECONNRESET'));
    }
    this.fail(codeError(`the model server closed the connection mid-stream${error ? ` (${error.message})` : ''}`, error?.code ?? 'ECONNRESET'));
  }
}
