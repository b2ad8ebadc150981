import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../ops/ssrf.js';
import { createLocalExecutor } from '../executor.js';
import { LIMITS } from '../limits.js';
import { callTool, makeWorkspace, type Workspace } from '../test-support.js';

/** The local `webfetch` tool: the runner's fetch code behind the executor's network switch and truncation. */

let server: Server;
let base: string;
let internal: Server;
let internalUrl: string;
let internalHits = 0;
const LONG = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'y'.repeat(10)}`).join('\n');

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/page') res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Title</h1><p>Some <b>bold</b> text</p>');
    else if (url.pathname === '/redirect') res.writeHead(302, { location: url.searchParams.get('to') ?? '/page' }).end();
    else if (url.pathname === '/long') res.writeHead(200, { 'content-type': 'text/plain' }).end(LONG);
    else res.writeHead(200, { 'content-type': 'text/plain' }).end('plain');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  internal = createServer((_req, res) => {
    internalHits += 1;
    res.end('secret');
  });
  internal.listen(0, '127.0.0.2');
  await once(internal, 'listening');
  internalUrl = `http://127.0.0.2:${(internal.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.close();
  internal.close();
});

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const open = createLocalExecutor({ network: true, web: { allowPrivateNet: true } });
const fetchWith = (executor = open, args: unknown = {}, extra = {}) => callTool(executor, ws.root, 'webfetch', args, extra);

describe('webfetch (local tool)', () => {
  it('is refused, without connecting, when the session has no network access', async () => {
    const res = await fetchWith(createLocalExecutor({ web: { allowPrivateNet: true } }), { url: internalUrl });
    expect(res).toMatchObject({ is_error: true, output: expect.stringContaining('no network access') });
    // The session's setting wins over the executor's default, both ways.
    expect(await fetchWith(open, { url: internalUrl }, { network: false })).toMatchObject({ is_error: true, output: expect.stringContaining('no network access') });
    expect(internalHits).toBe(0);
    expect(await fetchWith(createLocalExecutor({ web: { allowPrivateNet: true } }), { url: `${base}/` }, { network: true })).toEqual({ is_error: false, output: 'plain' });
  });

  it('refuses loopback by default, and a redirect to an internal address even from a public one', async () => {
    const guarded = createLocalExecutor({ network: true });
    expect(await fetchWith(guarded, { url: `${base}/page` })).toMatchObject({ is_error: true, output: expect.stringMatching(/refusing to fetch 127\.0\.0\.1.*allow_private_net/) });
    // 127.0.0.1 stands in for a public address; 127.0.0.2 stays internal.
    const onlyFirstIsPublic = createLocalExecutor({ network: true, web: { allowPrivateNet: false, isBlockedAddress: (a) => a !== '127.0.0.1' && isPrivateAddress(a) } });
    expect(await fetchWith(onlyFirstIsPublic, { url: `${base}/page` })).toMatchObject({ is_error: false });
    const res = await fetchWith(onlyFirstIsPublic, { url: `${base}/redirect?to=${encodeURIComponent(internalUrl)}` });
    expect(res).toMatchObject({ is_error: true, output: expect.stringContaining('refusing to fetch 127.0.0.2') });
    expect(internalHits).toBe(0);
  });

  it('converts HTML to markdown by default, or text or raw html, and names the URL a redirect ended at', async () => {
    expect(await fetchWith(open, { url: `${base}/page` })).toEqual({ is_error: false, output: '# Title\n\nSome **bold** text' });
    expect((await fetchWith(open, { url: `${base}/page`, format: 'text' })).output).toBe('Title\nSome bold text');
    expect((await fetchWith(open, { url: `${base}/page`, format: 'html' })).output).toBe('<h1>Title</h1><p>Some <b>bold</b> text</p>');
    expect((await fetchWith(open, { url: `${base}/redirect` })).output).toBe(`[fetched ${base}/page after redirects]\n\n# Title\n\nSome **bold** text`);
  });

  it('saves a long page under .tower/outputs and returns a preview with truncated, file_path and total_size', async () => {
    const res = await fetchWith(open, { url: `${base}/long` }, { id: 'call_long' });
    expect(res.is_error).toBe(false);
    expect(res.output.split('\n').slice(0, LIMITS.previewLines)).toEqual(LONG.split('\n').slice(0, LIMITS.previewLines));
    expect(res.output).toContain(`[truncated: true, file_path: .tower/outputs/call_long.txt, total_size: ${LONG.length} bytes]`);
    expect(await readFile(path.join(ws.root, '.tower/outputs/call_long.txt'), 'utf8')).toBe(LONG);
  });

  it('refuses bad arguments with a readable message', async () => {
    for (const args of [{}, { url: '' }, { url: `${base}/`, format: 'pdf' }, { url: `${base}/`, timeout: 121 }, { url: 42 }]) {
      expect(await fetchWith(open, args), JSON.stringify(args)).toMatchObject({ is_error: true, output: expect.stringContaining('invalid arguments for webfetch') });
    }
    expect(await fetchWith(open, { url: 'file:///etc/passwd' })).toMatchObject({ is_error: true, output: expect.stringContaining('only http and https') });
    expect(await fetchWith(open, { url: 'not a url' })).toMatchObject({ is_error: true, output: expect.stringContaining('invalid URL') });
  });
});
