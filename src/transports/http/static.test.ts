import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, registerDashboard } from './static.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'tower-web-'));
mkdirSync(path.join(root, 'assets'));
writeFileSync(path.join(root, 'index.html'), '<!doctype html><script type="module" src="/assets/index-AbCdEf12.js"></script>');
writeFileSync(path.join(root, 'assets', 'index-AbCdEf12.js'), 'console.log(1)');
writeFileSync(path.join(root, 'favicon.svg'), '<svg/>');
writeFileSync(path.join(os.tmpdir(), 'tower-web-secret.txt'), 'secret');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function app(): Hono {
  const a = new Hono();
  a.get('/api/sessions', (c) => c.json({ items: [] }));
  a.get('/health', (c) => c.json({ status: 'ok' }));
  registerDashboard(a, { root });
  a.notFound((c) => c.json({ code: 'not_found' }, 404));
  return a;
}

describe('dashboard static files', () => {
  it('serves index.html no-cache with a CSP allowing same-origin scripts only', async () => {
    const r = await app().request('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(await r.text()).toContain('/assets/index-AbCdEf12.js');
  });

  it('serves hashed assets immutable and other files briefly cached', async () => {
    const js = await app().request('/assets/index-AbCdEf12.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const svg = await app().request('/favicon.svg');
    expect(svg.headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('falls back to index.html for client routes, but not for missing files', async () => {
    const route = await app().request('/sessions/abc', { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(route.status).toBe(200);
    // Not a browser navigation: the API's JSON 404, not the app.
    const plain = await app().request('/sessions/abc');
    expect(plain.status).toBe(404);
    expect(plain.headers.get('content-type')).toContain('application/json');
    expect(route.headers.get('cache-control')).toBe('no-cache');
    expect((await app().request('/assets/missing-12345678.js')).status).toBe(404);
  });

  it('never shadows the API, the hub, runners, health, ready, metrics or the OpenAPI document', async () => {
    const a = app();
    expect(await (await a.request('/api/sessions')).json()).toEqual({ items: [] });
    expect((await a.request('/health')).status).toBe(200);
    for (const p of ['/api/nope', '/hub/ws', '/runners/ws', '/ready', '/metrics', '/openapi.json', '/api']) {
      const r = await a.request(p, { headers: { accept: 'text/html' } });
      expect(r.status, p).toBe(404);
      expect(r.headers.get('content-type'), p).toContain('application/json');
    }
    // The dashboard's own pages load when reloaded, /runners included (only /runners/ws is the gateway's).
    for (const p of ['/runners', '/threads', '/telemetry']) {
      const r = await a.request(p, { headers: { accept: 'text/html' } });
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toContain('text/html');
    }
  });

  it('refuses paths that climb out of the root, and non-GET methods', async () => {
    const a = app();
    for (const p of ['/../tower-web-secret.txt', '/%2e%2e/tower-web-secret.txt', '/assets/%2e%2e/%2e%2e/tower-web-secret.txt', '/%E0%A4%A']) {
      const r = await a.request(p);
      expect(await r.text(), p).not.toContain('secret');
    }
    expect((await a.request('/', { method: 'POST' })).status).toBe(404);
    const head = await a.request('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('serves nothing when there is no build', async () => {
    const a = new Hono();
    registerDashboard(a, { root: path.join(root, 'nope') });
    expect((await a.request('/')).status).toBe(404);
  });
});
