import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../core/metrics/index.js';
import { startingApp } from '../starting.js';
import { memoryHttp } from '../testing.js';

const token = 'meta-unit-token-0123456789';

describe('meta routes', () => {
  it('serves /metrics without the token only when public', async () => {
    for (const isPublic of [false, true]) {
      const app = await memoryHttp({ token, metrics: new Metrics({ public: isPublic, processMetrics: false }) });
      const res = await app.http.request('/metrics');
      expect(res.status).toBe(isPublic ? 200 : 401);
      expect((await app.http.request('/metrics', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await app.http.request('/api/sessions')).status).toBe(401);
      await app.close();
    }
  });

  it('answers /ready with 503 and the reason while not ready, without the token', async () => {
    let state: { ready: true } | { ready: false; reason: string } = { ready: false, reason: 'shutting down' };
    const app = await memoryHttp({ token, readiness: async () => state });
    const res = await app.http.request('/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, reason: 'shutting down', version: 'test' });
    state = { ready: true };
    expect(await (await app.http.request('/ready')).json()).toEqual({ ready: true, version: 'test' });
    await app.close();
  });

  it('while starting: alive, not ready with the phase, everything else 503 not_ready', async () => {
    const app = startingApp('v1', () => 'recovering interrupted turns');
    expect((await app.request('/health')).status).toBe(200);
    const ready = await app.request('/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'recovering interrupted turns', version: 'v1' });
    const api = await app.request('/api/sessions', { method: 'POST' });
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    expect(((await api.json()) as { code: string }).code).toBe('not_ready');
  });
});
