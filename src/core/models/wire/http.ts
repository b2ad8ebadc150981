import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { APICallError } from 'ai';
import type { WireRequest } from './capture.js';
import { codeError, EXCHANGE_IDLE_MS, http1Request, type Http1Exchange, type Http1Handlers, type Http1Head } from './http1.js';
import { nodeTlsOptions } from './http1-connect.js';
import { REDIRECT_STATUSES, redirectHop, type Hop } from './redirect.js';

/** What a streaming POST reports. After `end` or `fail`, or after `cancel()`, nothing more is called. */
export interface StreamHandlers {
  /** A piece of a 2xx body, decoded as UTF-8 (a character split across packets is kept whole). */
  data(text: string): void;
  /** The 2xx body ended. */
  end(): void;
  /**
   * The request failed: a socket error (with its `code`), an idle timeout (`ETIMEDOUT`), a body cut short
   * (`ECONNRESET`), or an HTTP error status, as the `APICallError` the AI SDK providers build for it.
   */
  fail(error: unknown): void;
}

export interface StreamConnection {
  /** Flow control: stops reading the socket until `resume`. */
  pause(): void;
  resume(): void;
  /** Ends the request at once (the server sees the disconnect); idempotent. */
  cancel(): void;
}

/** An error body is read up to this size for its message. */
const MAX_ERROR_BODY = 1 << 20;

/**
 * Which client carries the hops, `http:` and `https:` alike: Tower's own HTTP/1.1 client (`http1.ts`,
 * over node:net or node:tls, the default) or node:http / node:https with their global keep-alive agents
 * (`TOWER_MODEL_HTTP=node`, and the reference in tests).
 */
let client: 'http1' | 'node' = process.env.TOWER_MODEL_HTTP === 'node' ? 'node' : 'http1';

/** Tests: runs the same streams over either client. */
export function useModelHttpClient(which: 'http1' | 'node'): void {
  client = which;
}

/**
 * POSTs a captured provider request and streams the body to `handlers`: no web streams, no promise per
 * chunk, over Tower's own HTTP/1.1 client (`http1.ts`: `http:` over node:net, `https:` over node:tls,
 * one pool, a stale reused connection's request sent once more). Redirects are followed as the AI SDK's `fetch` follows them (`redirect.ts`).
 */
export function postStreaming(request: WireRequest, handlers: StreamHandlers): StreamConnection {
  let done = false;
  let current: Http1Exchange | undefined;
  const fail = (error: unknown) => {
    if (done) return;
    done = true;
    current?.cancel();
    handlers.fail(error);
  };
  const send = (hop: Hop, redirects: number): void => {
    const url = new URL(hop.url);
    const headers = hop.body === undefined ? hop.headers : { ...hop.headers, 'content-length': String(Buffer.byteLength(hop.body)) };
    // What this hop's response turned out to be; a redirect's body is read out (the connection is
    // reused) and ignored, and only the current hop may end the stream.
    let mode: 'head' | 'body' | 'error' | 'ignore' = 'head';
    let errorHead: Http1Head | undefined;
    let errorBody = '';
    const exchange = (client === 'http1' ? http1Request : nodeRequest)(url, hop.method, headers, hop.body, {
      head: (head) => {
        if (done) return void (mode = 'ignore');
        const location = head.headers.location;
        if (REDIRECT_STATUSES.has(head.status) && location !== undefined) {
          mode = 'ignore';
          try {
            send(redirectHop(hop, head.status, location, redirects), redirects + 1);
          } catch (err) {
            fail(err);
          }
          return;
        }
        if (head.status < 200 || head.status >= 300) {
          mode = 'error';
          errorHead = head;
        } else mode = 'body';
      },
      body: (text) => {
        if (mode === 'body') {
          if (!done) handlers.data(text);
        } else if (mode === 'error' && errorBody.length < MAX_ERROR_BODY) errorBody += text;
      },
      end: () => {
        if (mode === 'error') return fail(httpError(hop.url, errorHead as Http1Head, errorBody.slice(0, MAX_ERROR_BODY)));
        if (mode !== 'body' || done) return;
        done = true;
        handlers.end();
      },
      fail: (error) => {
        if (mode !== 'ignore') fail(error);
      },
    });
    current = exchange;
  };
  // The first request throws synchronously when it is refused (the caller reports that as an error part).
  send({ url: request.url, method: 'POST', headers: request.headers, body: request.body }, 0);
  return {
    pause: () => current?.pause(),
    resume: () => current?.resume(),
    cancel: () => {
      done = true;
      current?.cancel();
    },
  };
}

/** One hop over node:http or node:https (the global keep-alive agents), reported as `http1.ts` reports it. */
function nodeRequest(url: URL, method: string, headers: Record<string, string>, body: string | undefined, handlers: Http1Handlers): Http1Exchange {
  let over = false;
  let response: http.IncomingMessage | undefined;
  const req = url.protocol === 'https:' ? https.request(url, { method, headers, ...nodeTlsOptions() }) : http.request(url, { method, headers });
  const fail = (error: Error) => {
    if (over) return;
    over = true;
    req.destroy();
    handlers.fail(error);
  };
  req.setTimeout(EXCHANGE_IDLE_MS, () => fail(codeError(`no data from the model server for ${EXCHANGE_IDLE_MS / 1000} s`, 'ETIMEDOUT')));
  req.on('error', fail);
  req.on('response', (res) => {
    if (over) return void res.resume();
    response = res;
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    handlers.head({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: flat });
    if (over) return void res.resume();
    // Decoded here rather than with `setEncoding`: see `http1.ts`, which decodes the same way.
    let decoder: StringDecoder | undefined;
    res.on('data', (chunk: Buffer) => {
      if (over) return;
      if (decoder === undefined && (chunk[chunk.length - 1] as number) < 0x80) handlers.body(chunk.toString());
      else handlers.body((decoder ??= new StringDecoder('utf8')).write(chunk));
    });
    res.on('end', () => {
      if (over) return;
      // A character cut at the very end is a replacement character, as `setEncoding` makes it.
      const rest = decoder?.end();
      if (rest) handlers.body(rest);
      if (over) return;
      over = true;
      handlers.end();
    });
    // Node reports a body cut short as an `aborted` error (ECONNRESET), or only as `close`.
    const cut = (error?: Error & { code?: string }) =>
      fail(codeError(`the model server closed the connection mid-stream${error ? ` (${error.message})` : ''}`, error?.code ?? 'ECONNRESET'));
    res.on('error', cut);
    res.on('close', () => {
      if (!over) cut();
    });
  });
  req.end(body);
  return {
    pause: () => response?.pause(),
    resume: () => response?.resume(),
    cancel: () => {
      over = true;
      req.destroy();
    },
  };
}

/**
 * An HTTP error as the providers' own error handlers build it (`createJsonErrorResponseHandler`): the
 * message is the body's `error.message` when it has one (OpenAI's and Anthropic's error shapes both do),
 * else the status text.
 */
function httpError(url: string, head: Http1Head, body: string): APICallError {
  return new APICallError({
    message: errorMessage(body) ?? (head.statusText || `HTTP ${head.status}`),
    url,
    requestBodyValues: undefined,
    statusCode: head.status,
    responseHeaders: head.headers,
    responseBody: body,
  });
}

function errorMessage(body: string): string | undefined {
  if (body.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } } | null;
    const message = parsed?.error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
