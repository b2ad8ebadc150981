import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import { createLocalExecutor } from '../../src/runner/executor/index.js';
import { isPrivateAddress } from '../../src/runner/ops/index.js';
import { startRunnerTower, type RunnerTower } from '../support/runners.js';

/**
 * webfetch end to end: the fake model asks for it in a real turn, Tower's local executor (or a real
 * `tower runner`) fetches from an HTTP server on loopback, and the result lands in the session's log.
 */

let t: RunnerTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

let site: Server;
let siteUrl: string;
let internal: Server;
let internalUrl: string;
const hits: string[] = [];

beforeAll(async () => {
  site = createServer((req, res) => {
    hits.push(`site ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/redirect') res.writeHead(302, { location: url.searchParams.get('to') ?? '/page' }).end();
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><h1>Docs</h1><p>Read <a href="/more">more</a>.</p></body></html>');
  });
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  internal = createServer((_req, res) => {
    hits.push('internal');
    res.end('secret');
  });
  internal.listen(0, '127.0.0.2');
  await once(internal, 'listening');
  internalUrl = `http://127.0.0.2:${(internal.address() as AddressInfo).port}/`;
});
afterAll(() => {
  site.close();
  internal.close();
});

type Ev = TowerEvent & Record<string, unknown>;
const one = (events: TowerEvent[], type: string): Ev => {
  const found = events.find((e) => e.type === type);
  if (!found) throw new Error(`no ${type} event in ${events.map((e) => e.type).join(', ')}`);
  return found as Ev;
};

describe('webfetch in local sessions', () => {
  it('refuses loopback by default (SSRF guard), and everything when the session has no network access', async () => {
    t = await startRunnerTower();
    hits.length = 0;
    const online = await t.client.createSession({ network: true });
    const refused = await t.call(online.id, 'webfetch', { url: `${siteUrl}/page` });
    expect(one(refused, 'tool_call')).toMatchObject({ tool: 'webfetch', args: { url: `${siteUrl}/page` } });
    expect(one(refused, 'tool_call').runner).toBeUndefined();
    expect(one(refused, 'tool_call_response')).toMatchObject({ is_error: true, result: expect.stringContaining('refusing to fetch 127.0.0.1') });
    expect(one(refused, 'tool_call_response').runner).toBeUndefined();

    const offline = await t.client.createSession({});
    const off = await t.call(offline.id, 'webfetch', { url: `${siteUrl}/page` });
    expect(one(off, 'tool_call_response')).toMatchObject({ is_error: true, result: expect.stringContaining('no network access') });
    expect(hits).toEqual([]);
  });

  it('with allow_private_net in the config, fetches the page and converts it to markdown', async () => {
    t = await startRunnerTower({ config: { allow_private_net: true, network: true } });
    hits.length = 0;
    const session = await t.client.createSession({});
    const events = await t.call(session.id, 'webfetch', { url: `${siteUrl}/page` });
    expect(one(events, 'tool_call_response')).toMatchObject({ is_error: false, result: '# Docs\n\nRead [more](/more).' });
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
    const text = await t.call(session.id, 'webfetch', { url: `${siteUrl}/page`, format: 'text' });
    expect(one(text, 'tool_call_response')).toMatchObject({ is_error: false, result: 'Docs\nRead more.' });
    expect(hits).toEqual(['site /page', 'site /page']);
  });

  it('refuses a redirect to an internal address, re-checking the hop', async () => {
    // The executor counts 127.0.0.1 as public, so the first hop goes out; the redirect target does not.
    const executor = createLocalExecutor({ sandbox: 'none', network: true, web: { allowPrivateNet: false, isBlockedAddress: (a) => a !== '127.0.0.1' && isPrivateAddress(a) } });
    t = await startRunnerTower({ executor });
    hits.length = 0;
    const session = await t.client.createSession({});
    const events = await t.call(session.id, 'webfetch', { url: `${siteUrl}/redirect?to=${encodeURIComponent(internalUrl)}` });
    expect(one(events, 'tool_call_response')).toMatchObject({ is_error: true, result: expect.stringContaining('refusing to fetch 127.0.0.2') });
    expect(hits).toEqual([`site /redirect?to=${encodeURIComponent(internalUrl)}`]);
  });
});

describe('webfetch in a session placed on a runner', () => {
  it("goes to the runner's webfetch operation; tool_call and tool_call_response name the runner", async () => {
    t = await startRunnerTower({ config: { network: true } });
    hits.length = 0;
    const token = await t.token('fetcher', ['web']);
    t.runner(token.token, 'fetcher', path.join(t.base, 'ws'), { allow_private_net: true });
    await t.online(token.id);
    const session = await t.client.createSession({ runner: { labels: ['web'] } });
    const events = await t.call(session.id, 'webfetch', { url: `${siteUrl}/page` });
    const where = { id: token.id, name: 'fetcher' };
    expect(one(events, 'tool_call')).toMatchObject({ tool: 'webfetch', runner: where });
    expect(one(events, 'tool_call_response')).toMatchObject({ is_error: false, result: '# Docs\n\nRead [more](/more).', runner: where });

    // Network off for the session: refused before any runner is asked.
    await t.client.updateSession(session.id, { network: false });
    const off = await t.call(session.id, 'webfetch', { url: `${siteUrl}/page` });
    expect(one(off, 'tool_call').runner).toBeUndefined();
    expect(one(off, 'tool_call_response')).toMatchObject({ is_error: true, result: expect.stringContaining('no network access') });
    expect(one(off, 'tool_call_response').runner).toBeUndefined();
    expect(hits).toEqual(['site /page']);
  });
});
