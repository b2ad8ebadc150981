import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPrivateAddress } from './ssrf.js';
import { makeOpWorkspace, type OpWorkspace } from './test-support.js';
import { convertHtml } from './html-convert.js';
import { fetchUrl, webfetchOp, WEBFETCH } from './webfetch.js';

let server: Server;
let port: number;
let secondServer: Server;
let secondPort: number;
let ws: OpWorkspace;
let hits: string[] = [];

const PAGE = '<html><head><title>T</title><style>p{}</style></head><body><h1>Hello</h1><p>a &amp; b</p><script>x()</script></body></html>';

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.headers.host} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (url.pathname === '/gz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync('zipped text'));
    } else if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/page' }).end();
    } else if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else if (url.pathname === '/huge') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      for (let i = 0; i < 6; i += 1) res.write(chunk);
      res.end();
    } else if (url.pathname === '/long') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n'));
    } else if (url.pathname === '/missing') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('plain');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  secondServer = createServer((_req, res) => {
    hits.push('second');
    res.end('internal');
  });
  secondServer.listen(0, '127.0.0.2');
  await once(secondServer, 'listening');
  secondPort = (secondServer.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  secondServer.close();
});

beforeEach(async () => {
  hits = [];
  ws = await makeOpWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const signal = () => new AbortController().signal;

describe('webfetch SSRF guard', () => {
  it('refuses 127.0.0.1, [::ffff:127.0.0.1] and a name resolving to loopback by default, without connecting', async () => {
    for (const url of [`http://127.0.0.1:${port}/page`, `http://[::ffff:127.0.0.1]:${port}/page`, `http://localhost:${port}/page`, `http://[::1]:${port}/`, `http://0.0.0.0:${port}/`]) {
      await expect(webfetchOp({ url }, ws.ctx()), url).rejects.toThrow(/refusing to fetch/);
    }
    expect(hits).toEqual([]);
  });

  it('refuses a redirect to loopback, re-checking each hop', async () => {
    // Only 127.0.0.1 stands in for a public address here; 127.0.0.2 stays internal.
    const onlyFirstIsPublic = (a: string) => a !== '127.0.0.1' && isPrivateAddress(a);
    const to = encodeURIComponent(`http://127.0.0.2:${secondPort}/`);
    await expect(fetchUrl(`http://127.0.0.1:${port}/redirect?to=${to}`, undefined, { allowPrivateNet: false, signal: signal(), isBlockedAddress: onlyFirstIsPublic }))
      .rejects.toThrow(/refusing to fetch 127\.0\.0\.2/);
    const mapped = encodeURIComponent(`http://[::ffff:127.0.0.2]:${secondPort}/`);
    await expect(fetchUrl(`http://127.0.0.1:${port}/redirect?to=${mapped}`, undefined, { allowPrivateNet: false, signal: signal(), isBlockedAddress: onlyFirstIsPublic }))
      .rejects.toThrow(/refusing to fetch ::ffff:7f00:2/);
    expect(hits.filter((h) => h === 'second')).toEqual([]);
  });

  it('checks the address actually connected to, not only the resolved one', async () => {
    // The verdict flips after the lookup, as a rebinding name's would: the socket-level check must catch it.
    let calls = 0;
    const flips = () => {
      calls += 1;
      return calls > 1;
    };
    await expect(fetchUrl(`http://127.0.0.1:${port}/page`, undefined, { allowPrivateNet: false, signal: signal(), isBlockedAddress: flips }))
      .rejects.toThrow(/refusing to fetch 127\.0\.0\.1/);
    expect(calls).toBe(2);
  });

  it('refuses non-http schemes and bad URLs', async () => {
    await expect(webfetchOp({ url: 'file:///etc/passwd' }, ws.ctx())).rejects.toThrow(/only http and https/);
    await expect(webfetchOp({ url: 'ftp://x/' }, ws.ctx())).rejects.toThrow(/only http and https/);
    await expect(webfetchOp({ url: 'not a url' }, ws.ctx())).rejects.toThrow(/invalid URL/);
    await expect(webfetchOp({ url: `http://127.0.0.1:${port}/`, timeout: WEBFETCH.maxTimeoutSec + 1 }, ws.ctx({ allowPrivateNet: true }))).rejects.toThrow(/at most 120/);
  });
});

describe('webfetch with private networks allowed', () => {
  it('converts HTML to markdown, text, or returns it raw, with the Host header of the URL', async () => {
    const ctx = () => ws.ctx({ allowPrivateNet: true });
    const md = await webfetchOp({ url: `http://localhost:${port}/page` }, ctx());
    expect(md.content).toContain('# Hello');
    expect(md.content).toContain('a & b');
    expect(md.content).not.toContain('x()');
    expect(md.url).toBe(`http://localhost:${port}/page`);
    expect(hits[0]).toBe(`localhost:${port} /page`);
    const text = await webfetchOp({ url: `http://127.0.0.1:${port}/page`, format: 'text' }, ctx());
    expect(text.content).toBe('T\nHello\na & b');
    const html = await webfetchOp({ url: `http://127.0.0.1:${port}/page`, format: 'html' }, ctx());
    expect(html.content).toBe(PAGE);
  });

  it('follows redirects up to five times and reports the final URL', async () => {
    const ctx = ws.ctx({ allowPrivateNet: true });
    const res = await webfetchOp({ url: `http://127.0.0.1:${port}/redirect?to=/gz`, format: 'text' }, ctx);
    expect(res).toMatchObject({ content: 'zipped text', url: `http://127.0.0.1:${port}/gz` });
    await expect(webfetchOp({ url: `http://127.0.0.1:${port}/loop` }, ws.ctx({ allowPrivateNet: true }))).rejects.toThrow(/too many redirects/);
    expect(hits.filter((h) => h.endsWith('/loop'))).toHaveLength(WEBFETCH.maxRedirects + 1);
  });

  it('caps the body at 5 MB, reports HTTP errors, and spills a long page to a file', async () => {
    await expect(webfetchOp({ url: `http://127.0.0.1:${port}/huge` }, ws.ctx({ allowPrivateNet: true }))).rejects.toThrow(/larger than 5 MB/);
    await expect(webfetchOp({ url: `http://127.0.0.1:${port}/missing` }, ws.ctx({ allowPrivateNet: true }))).rejects.toThrow(/HTTP 404/);
    const long = await webfetchOp({ url: `http://127.0.0.1:${port}/long` }, ws.ctx({ allowPrivateNet: true, taskId: 'wf' }));
    expect(long).toMatchObject({ truncated: true, file_path: '.tower/outputs/wf.webfetch.txt' });
    expect(long.content.split('\n')).toHaveLength(20);
  });
});

describe('convertHtml', () => {
  it('decodes entities and drops scripts in text, converts to markdown, off the main thread', async () => {
    expect(await convertHtml('<p>&lt;b&gt; &#65;&#x42;</p><script>evil()</script>', 'text', 10_000)).toBe('<b> AB');
    expect(await convertHtml('<h2>T</h2><p><a href="/x">link</a></p>', 'markdown', 10_000)).toBe('## T\n\n[link](/x)');
  });

  it('gives up on a page too slow to convert instead of blocking the runner', async () => {
    const row = '<tr><td><a href="/x">cell</a></td><td><b>bold</b></td></tr>';
    const html = `<table>${row.repeat(40_000)}</table>`;
    // The event loop stays free meanwhile: a timer set now fires while the conversion runs.
    let ticked = false;
    setTimeout(() => (ticked = true), 10);
    await expect(convertHtml(html, 'markdown', 300)).rejects.toThrow(/took longer than/);
    expect(ticked).toBe(true);
  });
});
