import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { TowerError } from '../../protocol/errors.js';
import type { WebFetchArgs, WebFetchResult } from '../../protocol/runner.js';
import type { OpContext } from './context.js';
import { convertHtml } from './html-convert.js';
import { spillIfLong } from './spill.js';
import { isPrivateAddress, refusal, resolveSafe } from './ssrf.js';

export const WEBFETCH = {
  defaultTimeoutSec: 30,
  maxTimeoutSec: 120,
  maxBytes: 5 * 1024 * 1024,
  maxRedirects: 5,
  /** Time allowed to convert a page to markdown or text, on top of the fetch's own timeout. */
  convertTimeoutMs: 20_000,
} as const;

export interface WebFetchOptions {
  allowPrivateNet: boolean;
  signal: AbortSignal;
  /** Which addresses count as internal; tests narrow it to stand a local server in for a public one. */
  isBlockedAddress?: (address: string) => boolean;
}

export interface Fetched {
  url: string;
  status: number;
  contentType: string;
  body: string;
}

/**
 * `webfetch`: GET an http(s) URL and return it as markdown, text or html. Each hop (at most 5 redirects)
 * is resolved once, every resolved address checked by the SSRF guard, and the connection made to that
 * very address with the original Host header and TLS server name; the socket's remote address is checked
 * again once connected. Bodies are capped at 5 MB after decompression.
 */
export async function webfetchOp(args: WebFetchArgs, ctx: OpContext): Promise<WebFetchResult> {
  const page = await fetchPage(args, { allowPrivateNet: ctx.allowPrivateNet, signal: ctx.signal });
  const { text, ...truncation } = await spillIfLong(page.content, ctx.root, ctx.taskId, 'webfetch');
  return { content: text, url: page.url, ...truncation };
}

/**
 * Fetches `args.url` and renders it in `args.format` (default markdown; HTML converted off the event loop,
 * other content types returned as they came). Shared by the runner's operation and the local `webfetch`
 * tool, which differ only in how they cut a long page.
 */
export async function fetchPage(args: WebFetchArgs, opts: WebFetchOptions): Promise<{ content: string; url: string }> {
  const fetched = await fetchUrl(args.url, args.timeout, opts);
  const format = args.format ?? 'markdown';
  const isHtml = /\b(text\/html|application\/xhtml\+xml)\b/i.test(fetched.contentType);
  const content = isHtml && format !== 'html' ? await convertHtml(fetched.body, format, WEBFETCH.convertTimeoutMs, opts.signal) : fetched.body;
  return { content, url: fetched.url };
}

export async function fetchUrl(rawUrl: string, timeoutSec: number | undefined, opts: WebFetchOptions): Promise<Fetched> {
  const seconds = timeoutSec ?? WEBFETCH.defaultTimeoutSec;
  if (seconds > WEBFETCH.maxTimeoutSec) {
    throw new TowerError('invalid_request', `timeout may be at most ${WEBFETCH.maxTimeoutSec} seconds, got ${seconds}`);
  }
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(seconds * 1000)]);
  let url = parseHttpUrl(rawUrl);
  for (let hop = 0; ; hop += 1) {
    const res = await requestOnce(url, opts, signal);
    const location = res.headers.location;
    if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.destroy();
      if (hop >= WEBFETCH.maxRedirects) throw new TowerError('network_error', `too many redirects (more than ${WEBFETCH.maxRedirects})`);
      url = parseHttpUrl(new URL(location, url).toString());
      continue;
    }
    const status = res.statusCode ?? 0;
    const contentType = String(res.headers['content-type'] ?? '');
    const bytes = await readCapped(decoded(res), signal);
    const body = decodeText(bytes, contentType);
    if (status >= 400) {
      throw new TowerError('network_error', `${url.toString()} answered HTTP ${status}: ${body.slice(0, 200)}`);
    }
    return { url: url.toString(), status, contentType, body };
  }
}

function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TowerError('invalid_request', `invalid URL: ${raw.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TowerError('invalid_request', `only http and https URLs can be fetched, not ${url.protocol}`);
  }
  return url;
}

async function requestOnce(url: URL, opts: WebFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const isBlocked = opts.isBlockedAddress ?? isPrivateAddress;
  const target = await resolveSafe(url.hostname, opts.allowPrivateNet, isBlocked);
  const secure = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = (secure ? https : http).request({
      host: target.address,
      family: target.family,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: {
        host: url.host,
        'user-agent': 'tower-runner (webfetch)',
        accept: 'text/html, text/markdown, text/plain, application/json;q=0.9, */*;q=0.8',
        'accept-encoding': 'gzip, deflate, br',
      },
      // TLS name checks use the URL's host, though the socket goes to the checked address.
      ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
      agent: false,
      signal,
    });
    req.once('socket', (socket) => {
      socket.once('connect', () => {
        const remote = socket.remoteAddress;
        if (!opts.allowPrivateNet && (remote === undefined || isBlocked(remote))) req.destroy(refusal(hostname, remote ?? 'an unknown address'));
      });
    });
    req.once('response', resolve);
    req.once('error', (err) => reject(err instanceof TowerError ? err : networkError(url, err, signal)));
    req.end();
  });
}

function networkError(url: URL, err: Error, signal: AbortSignal): TowerError {
  if (signal.aborted) return new TowerError('network_error', `fetching ${url.toString()} was canceled or timed out`);
  return new TowerError('network_error', `fetching ${url.toString()} failed: ${err.message}`);
}

function decoded(res: IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(createGunzip());
  if (encoding === 'deflate') return res.pipe(createInflate());
  if (encoding === 'br') return res.pipe(createBrotliDecompress());
  return res;
}

async function readCapped(stream: Readable, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > WEBFETCH.maxBytes) throw new TowerError('payload_too_large', `response is larger than ${WEBFETCH.maxBytes / (1024 * 1024)} MB`);
      chunks.push(buf);
    }
  } catch (err) {
    if (err instanceof TowerError) throw err;
    if (signal.aborted) throw new TowerError('network_error', 'fetch was canceled or timed out while reading the body');
    throw new TowerError('network_error', `reading the response failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

function decodeText(bytes: Buffer, contentType: string): string {
  const charset = /charset="?([\w-]+)/i.exec(contentType)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}
