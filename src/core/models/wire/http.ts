import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { APICallError } from 'ai';
import type { WireRequest } from './capture.js';
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

/** No byte for this long ends the request: undici's default headers and body timeouts, which `fetch` had. */
const IDLE_TIMEOUT_MS = 300_000;
/** An error body is read up to this size for its message. */
const MAX_ERROR_BODY = 1 << 20;

const codeError = (message: string, code: string): Error => Object.assign(new Error(message), { code });

/**
 * POSTs a captured provider request over `node:http`/`node:https` (the global keep-alive agents) and
 * streams the body to `handlers`: no web streams, no promise per chunk. Redirects are followed as the
 * AI SDK's `fetch` follows them (`redirect.ts`).
 */
export function postStreaming(request: WireRequest, handlers: StreamHandlers): StreamConnection {
  let done = false;
  let req: http.ClientRequest | undefined;
  let response: http.IncomingMessage | undefined;
  const fail = (error: unknown) => {
    if (done) return;
    done = true;
    req?.destroy();
    handlers.fail(error);
  };
  const send = (hop: Hop, redirects: number): void => {
    const url = new URL(hop.url);
    const client = url.protocol === 'https:' ? https : http;
    const headers = hop.body === undefined ? hop.headers : { ...hop.headers, 'content-length': String(Buffer.byteLength(hop.body)) };
    const sent = client.request(url, { method: hop.method, headers });
    req = sent;
    // Only the current hop may end the stream: a redirect's finished request is left alone.
    sent.setTimeout(IDLE_TIMEOUT_MS, () => {
      if (req === sent) fail(codeError(`no data from the model server for ${IDLE_TIMEOUT_MS / 1000} s`, 'ETIMEDOUT'));
    });
    sent.on('error', (err) => {
      if (req === sent) fail(err);
    });
    sent.on('response', (res) => {
      if (done) return void res.resume();
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        // The redirect's own body is not wanted; reading it out frees the keep-alive socket.
        res.resume();
        try {
          const next = redirectHop(hop, status, location, redirects);
          send(next, redirects + 1);
        } catch (err) {
          fail(err);
        }
        return;
      }
      response = res;
      if (status < 200 || status >= 300) {
        readErrorBody(res, (body) => fail(httpError(hop.url, res, body)), fail);
        return;
      }
      // Decoded here rather than with `setEncoding`: a chunk that ends on an ASCII byte (an SSE event ends
      // with a newline, so nearly every one) cannot end inside a character and is decoded as it is, without
      // the stream's decoder per chunk. The first that does not takes a decoder, kept from then on (it
      // holds the character's first bytes).
      let decoder: StringDecoder | undefined;
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        if (decoder === undefined && (chunk[chunk.length - 1] as number) < 0x80) handlers.data(chunk.toString());
        else handlers.data((decoder ??= new StringDecoder('utf8')).write(chunk));
      });
      res.on('end', () => {
        if (done) return;
        // A character cut at the very end is a replacement character, as `setEncoding` makes it.
        const rest = decoder?.end();
        if (rest) handlers.data(rest);
        if (done) return;
        done = true;
        handlers.end();
      });
      // Node reports a body cut short as an `aborted` error (ECONNRESET), or only as `close`.
      const cut = (error?: Error & { code?: string }) =>
        fail(codeError(`the model server closed the connection mid-stream${error ? ` (${error.message})` : ''}`, error?.code ?? 'ECONNRESET'));
      res.on('error', cut);
      res.on('close', () => {
        if (!done) cut();
      });
    });
    sent.end(hop.body);
  };
  // The first request throws synchronously when Node refuses it (the caller reports that as an error part).
  send({ url: request.url, method: 'POST', headers: request.headers, body: request.body }, 0);
  return {
    pause: () => response?.pause(),
    resume: () => response?.resume(),
    cancel: () => {
      done = true;
      req?.destroy();
    },
  };
}

function readErrorBody(res: http.IncomingMessage, onBody: (body: string) => void, onError: (error: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    if (size >= MAX_ERROR_BODY) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  res.on('end', () => onBody(Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY)));
  res.on('error', onError);
}

/**
 * An HTTP error as the providers' own error handlers build it (`createJsonErrorResponseHandler`): the
 * message is the body's `error.message` when it has one (OpenAI's and Anthropic's error shapes both do),
 * else the status text.
 */
function httpError(url: string, res: http.IncomingMessage, body: string): APICallError {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return new APICallError({
    message: errorMessage(body) ?? res.statusMessage ?? `HTTP ${res.statusCode}`,
    url,
    requestBodyValues: undefined,
    statusCode: res.statusCode,
    responseHeaders: headers,
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
