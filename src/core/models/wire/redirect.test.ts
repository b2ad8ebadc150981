/**
 * A `base_url` that redirects: the wire path follows it as the AI SDK's fetch did (307/308 resend the
 * POST, 301/302/303 turn it into a GET, at most 20 hops), through a real redirecting server in front of
 * the fake model servers, and keeps credentials on their origin.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModelServer } from '../../../fake-models/index.js';
import { collect } from '../../../fake-models/testing/rig.js';
import type { FakeFormat, FakeModelServer } from '../../../fake-models/types.js';
import { createModelRegistry } from '../registry.js';
import type { StepRequest } from '../types.js';
import { redirectHop, type Hop } from './redirect.js';
import { WireStepper } from './wire-stepper.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A server answering `/old/...` with `status` and `Location: <target(path)>`; any other path with a
 * one-line SSE text (OpenAI format). Records every request.
 */
async function redirector(status: number, target: (rest: string, self: string) => string): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let self = '';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      if (path.startsWith('/old/')) {
        res.writeHead(status, { location: target(path.slice('/old'.length), self) });
        res.end('moved');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `${req.method} here` } }] })}\n\ndata: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${self}/old/v1`, seen };
}

async function fake(format: FakeFormat): Promise<FakeModelServer> {
  const server = await startFakeModelServer({ format, script: [{ text: 'from the fake' }] });
  closers.push(() => server.close());
  return server;
}

const request = (): StepRequest => ({ model: 'r/m', messages: [{ role: 'user', content: 'hi' }], tools: [], signal: new AbortController().signal });
const stepper = (type: 'openai-compatible' | 'anthropic', url: string) =>
  new WireStepper(createModelRegistry({ config: { providers: { r: { type, base_url: url, api_key: 'secret-key' } } }, env: {} }));
const texts = (parts: Awaited<ReturnType<typeof collect>>) => parts.filter((p) => p.type === 'text').map((p) => (p as { delta: string }).delta).join('');

describe('WireStepper follows a redirecting base_url', () => {
  for (const status of [307, 308]) {
    it(`${status} to another origin resends the POST there, without the Authorization header (OpenAI)`, async () => {
      const target = await fake('openai');
      const front = await redirector(status, (rest) => `${new URL(target.url).origin}${rest}`);
      const parts = await collect(stepper('openai-compatible', front.url).step(request()));
      expect(texts(parts)).toBe('from the fake');
      expect(parts.at(-1)).toMatchObject({ type: 'finish' });
      expect(front.seen[0]?.headers.authorization).toBe('Bearer secret-key');
      expect(target.headers).toHaveLength(1);
      expect(target.headers[0]?.authorization).toBeUndefined();
      expect(JSON.stringify(target.headers[0])).not.toContain('secret-key');
      expect(target.parsed[0]?.messages).toEqual([{ role: 'user', text: 'hi' }]);
    });
  }

  it("308 to another origin drops Anthropic's x-api-key and keeps the other headers", async () => {
    const target = await fake('anthropic');
    const front = await redirector(308, (rest) => `${new URL(target.url).origin}${rest}`);
    const parts = await collect(stepper('anthropic', front.url).step(request()));
    expect(texts(parts)).toBe('from the fake');
    expect(front.seen[0]?.headers['x-api-key']).toBe('secret-key');
    expect(target.headers[0]?.['x-api-key']).toBeUndefined();
    expect(target.headers[0]?.['anthropic-version']).toBe(front.seen[0]?.headers['anthropic-version']);
  });

  it('307 within the origin keeps the credentials and the body', async () => {
    const front = await redirector(307, (rest, self) => `${self}/new${rest}`);
    const parts = await collect(stepper('openai-compatible', front.url).step(request()));
    expect(texts(parts)).toBe('POST here');
    expect(front.seen.map((s) => [s.method, s.path])).toEqual([['POST', '/old/v1/chat/completions'], ['POST', '/new/v1/chat/completions']]);
    expect(front.seen[1]?.headers.authorization).toBe('Bearer secret-key');
    expect(front.seen[1]?.body).toBe(front.seen[0]?.body);
  });

  for (const status of [301, 302, 303]) {
    it(`${status} turns the POST into a GET without its body, as fetch does`, async () => {
      const front = await redirector(status, (rest, self) => `${self}/new${rest}`);
      const parts = await collect(stepper('openai-compatible', front.url).step(request()));
      expect(texts(parts)).toBe('GET here');
      expect(front.seen[1]).toMatchObject({ method: 'GET', path: '/new/v1/chat/completions', body: '' });
      expect(front.seen[1]?.headers['content-type']).toBeUndefined();
      expect(front.seen[1]?.headers.authorization).toBe('Bearer secret-key');
    });
  }

  it('a redirect loop ends after 20 hops with an error part', async () => {
    const front = await redirector(307, (rest, self) => `${self}/old${rest}`);
    const parts = await collect(stepper('openai-compatible', front.url).step(request()));
    expect(parts).toEqual([{ type: 'error', code: 'model_http_error', message: 'HTTP 307: the model server redirected more than 20 times' }]);
    expect(front.seen).toHaveLength(21);
  });
});

describe('redirectHop', () => {
  const hop: Hop = {
    url: 'https://api.example.com/v1/chat',
    method: 'POST',
    headers: { authorization: 'Bearer k', 'x-api-key': 'k', 'api-key': 'k', cookie: 'c', 'content-type': 'application/json', 'user-agent': 'u' },
    body: '{}',
  };

  it('resolves a relative Location against the current URL and keeps everything within the origin', () => {
    expect(redirectHop(hop, 308, '/v2/chat?x=1', 0)).toEqual({ ...hop, url: 'https://api.example.com/v2/chat?x=1' });
  });

  it('drops every credential when the scheme, host or port changes', () => {
    for (const location of ['http://api.example.com/v1/chat', 'https://other.example.com/v1/chat', 'https://api.example.com:8443/v1/chat']) {
      expect(redirectHop(hop, 307, location, 0).headers).toEqual({ 'content-type': 'application/json', 'user-agent': 'u' });
    }
  });

  it('refuses a non-HTTP Location, a broken one, and the 21st hop', () => {
    expect(() => redirectHop(hop, 307, 'file:///etc/passwd', 0)).toThrow('redirected to a file: URL');
    expect(() => redirectHop(hop, 307, 'http://[::1', 0)).toThrow('invalid URL');
    expect(() => redirectHop(hop, 307, '/again', 20)).toThrow('more than 20 times');
    expect(redirectHop(hop, 307, '/again', 19).url).toBe('https://api.example.com/again');
  });
});
