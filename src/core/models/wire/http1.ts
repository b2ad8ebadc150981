import { validateHeaderName, validateHeaderValue } from 'node:http';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { readBody, type BodyReader } from './http1-body.js';

/** A response's status line and headers (names lower-case, repeated headers joined with ", "). */
export interface Http1Head {
  status: number;
  statusText: string;
  headers: Record<string, string>;
}

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

/** No byte for this long fails the exchange (`ETIMEDOUT`). */
export const EXCHANGE_IDLE_MS = 300_000;
/** An idle keep-alive connection is closed after this (under node's and most servers' 5 s). */
const POOL_IDLE_MS = 4_000;
/** A response head larger than this is refused (node's default `maxHeaderSize` is 16 KiB). */
const MAX_HEAD = 64 * 1024;

/** An Error carrying a node-style `code` (as node:http's own errors do). */
export const codeError = (message: string, code: string): Error => Object.assign(new Error(message), { code });

/**
 * Every connection reads into this one buffer (`onread`): a read is consumed synchronously, before the
 * next read of any socket can run, so one buffer serves them all.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * A minimal HTTP/1.1 client for the model streams over plain `http:` (local and in-cluster model
 * servers, the fake servers of the tests and benchmarks). node:http pays, per socket read, a socket
 * Readable, llhttp's C++ round trip and a second Readable (IncomingMessage) before the body reaches
 * Tower; here the socket hands its reads straight to a callback (`onread`: no stream machinery) and the
 * body framing (chunked, content-length, close-delimited) is a small state machine over the bytes
 * (`http1-body.ts`). Connections are kept alive per origin, as node's global agent keeps them (no
 * retry of a request whose reused connection the server had just closed, as with node's agent).
 */
export function http1Request(url: URL, method: string, headers: Record<string, string>, body: string | undefined, handlers: Http1Handlers): Http1Exchange {
  const request = serialise(url, method, headers, body);
  const key = `${url.hostname}:${url.port || '80'}`;
  const conn = takeIdle(key) ?? new Conn(key, url);
  conn.start(method, handlers);
  conn.socket.write(request);
  return conn.exchange();
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

const pool = new Map<string, Conn[]>();

function takeIdle(key: string): Conn | undefined {
  const idle = pool.get(key);
  const conn = idle?.pop();
  if (idle !== undefined && idle.length === 0) pool.delete(key);
  return conn;
}

function dropIdle(conn: Conn): void {
  const idle = pool.get(conn.key);
  const at = idle?.indexOf(conn) ?? -1;
  if (at < 0) return;
  idle!.splice(at, 1);
  if (idle!.length === 0) pool.delete(conn.key);
}

/** One connection: idle in the pool, or carrying one exchange. */
class Conn {
  readonly socket: net.Socket;
  private handlers: Http1Handlers | undefined;
  private method = 'POST';
  private headText = '';
  private reader: BodyReader | undefined;
  private decoder: StringDecoder | undefined;
  private keepAlive = false;
  private idle = false;
  /**
   * One piece of the body (an HTTP chunk, or what a read holds of it) to the handler, as node:http hands
   * over each chunk: the turn budget (`turn-budget.ts`) admits them one by one. Decoded as one string
   * when it ends on an ASCII byte (an SSE event ends with a newline, so nearly every one): it cannot end
   * inside a character. The first piece that does not takes a decoder, kept from then on (it holds the
   * character's first bytes). False once the exchange is over (cancelled by the handler).
   */
  private readonly piece = (buf: Buffer, start: number, end: number): boolean => {
    const handlers = this.handlers as Http1Handlers;
    const text =
      this.decoder === undefined && (buf[end - 1] as number) < 0x80 ? buf.toString('utf8', start, end) : (this.decoder ??= new StringDecoder('utf8')).write(buf.subarray(start, end));
    if (text.length > 0) handlers.body(text);
    return this.handlers === handlers;
  };

  constructor(
    readonly key: string,
    url: URL,
  ) {
    this.socket = net.connect({
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: Number(url.port || 80),
      onread: { buffer: READ_BUFFER, callback: (n) => this.read(n, READ_BUFFER) },
    });
    this.socket.setNoDelay(true);
    this.socket.on('error', (error) => this.lost(error));
    this.socket.on('close', () => this.lost(undefined));
    this.socket.on('timeout', () => {
      if (this.idle) this.socket.destroy();
      else this.fail(codeError(`no data from the model server for ${EXCHANGE_IDLE_MS / 1000} s`, 'ETIMEDOUT'));
    });
  }

  start(method: string, handlers: Http1Handlers): void {
    this.idle = false;
    this.socket.ref();
    this.socket.setTimeout(EXCHANGE_IDLE_MS);
    this.method = method;
    this.handlers = handlers;
    this.headText = '';
    this.reader = undefined;
    this.decoder = undefined;
  }

  exchange(): Http1Exchange {
    const handlers = this.handlers;
    return {
      pause: () => {
        if (this.handlers === handlers) this.socket.pause();
      },
      resume: () => {
        if (this.handlers === handlers) this.socket.resume();
      },
      cancel: () => {
        if (this.handlers !== handlers) return;
        this.handlers = undefined;
        this.socket.destroy();
      },
    };
  }

  /** One socket read, in `buf[0, n)`. True: keep reading (`onread` pauses the socket on false). */
  private read(n: number, buf: Buffer): true {
    if (this.handlers === undefined) {
      // Bytes on an idle connection (or after a cancel): not a response to anything; not reusable.
      this.socket.destroy();
      return true;
    }
    let at = 0;
    if (this.reader === undefined) {
      at = this.readHead(n, buf);
      if (at < 0) return true;
    }
    const reader = this.reader as BodyReader;
    const used = reader.read(buf, at, n, this.piece);
    if (this.handlers === undefined) return true;
    if (used instanceof Error) this.fail(used);
    else if (reader.done) this.finish(used === n);
    return true;
  }

  /** Reads the status line and headers; returns where the body starts in `buf`, or -1 (more to come, or failed). */
  private readHead(n: number, buf: Buffer): number {
    let from = 0;
    for (;;) {
      const before = this.headText.length;
      this.headText += buf.toString('latin1', from, n);
      const end = /\r?\n\r?\n/.exec(this.headText);
      if (end === null) {
        if (this.headText.length > MAX_HEAD) this.fail(codeError('the model server sent a response head over 64 KiB', 'HPE_HEADER_OVERFLOW'));
        return -1;
      }
      const bodyAt = from + end.index + end[0].length - before;
      const head = parseHead(this.headText.slice(0, end.index));
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
      const noBody = this.method === 'HEAD' || status === 204 || status === 304;
      this.reader = readBody(noBody, headers['transfer-encoding'], headers['content-length']);
      if (this.reader.untilClose) this.keepAlive = false;
      const handlers = this.handlers as Http1Handlers;
      handlers.head(head.head);
      if (this.handlers !== handlers) return -1;
      if (this.reader.done) {
        this.finish(bodyAt === n);
        return -1;
      }
      return bodyAt;
    }
  }

  private finish(clean: boolean): void {
    const handlers = this.handlers as Http1Handlers;
    const rest = this.decoder?.end();
    if (rest) handlers.body(rest);
    if (this.handlers !== handlers) return;
    this.handlers = undefined;
    if (clean && this.keepAlive && !this.socket.destroyed) this.release();
    else this.socket.destroy();
    handlers.end();
  }

  private release(): void {
    this.idle = true;
    this.socket.resume();
    this.socket.setTimeout(POOL_IDLE_MS);
    // An idle connection does not keep the process alive (as node's agent unrefs its free sockets).
    this.socket.unref();
    const idle = pool.get(this.key);
    if (idle === undefined) pool.set(this.key, [this]);
    else idle.push(this);
  }

  private fail(error: Error): void {
    const handlers = this.handlers;
    this.handlers = undefined;
    this.socket.destroy();
    handlers?.fail(error);
  }

  /** The socket failed or closed: an idle one leaves the pool; a live exchange ends. */
  private lost(error: (Error & { code?: string }) | undefined): void {
    if (this.idle) {
      this.idle = false;
      dropIdle(this);
      return;
    }
    if (this.handlers === undefined) return;
    const reader = this.reader;
    if (reader?.untilClose && error === undefined) {
      reader.done = true;
      return this.finish(false);
    }
    if (reader === undefined) return this.fail(error ?? codeError('socket hang up', 'ECONNRESET'));
    this.fail(codeError(`the model server closed the connection mid-stream${error ? ` (${error.message})` : ''}`, error?.code ?? 'ECONNRESET'));
  }
}

function parseHead(text: string): { minor: number; head: Http1Head } | Error {
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] as string);
  if (status === null) return codeError(`not an HTTP/1.x response from the model server: ${(lines[0] as string).slice(0, 100)}`, 'HPE_INVALID_CONSTANT');
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return codeError(`malformed response header from the model server: ${line.slice(0, 100)}`, 'HPE_INVALID_HEADER_TOKEN');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    last = name;
  }
  return { minor: Number(status[1]), head: { status: Number(status[2]), statusText: status[3] ?? '', headers } };
}
