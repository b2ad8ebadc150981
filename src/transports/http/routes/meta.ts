import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ModelList } from '../../../protocol/api.js';
import type { HttpDeps } from '../deps.js';
import { BEARER, HealthBody, ReadyBody, errorResponses, json } from '../schemas.js';

const health = createRoute({
  method: 'get', path: '/health', tags: ['meta'], operationId: 'meta.health', security: [], summary: 'Liveness (no auth)',
  responses: { 200: json(HealthBody, 'Alive') },
});
const ready = createRoute({
  method: 'get', path: '/ready', tags: ['meta'], operationId: 'meta.ready', security: [],
  summary: 'Readiness (no auth): recovery has finished, the store answers and every configured transport is up',
  responses: { 200: json(ReadyBody, 'Ready to serve'), 503: json(ReadyBody, 'Not ready, and why') },
});
const models = createRoute({
  method: 'get', path: '/api/models', tags: ['models'], operationId: 'models.list', security: BEARER,
  summary: 'Configured models and the default',
  responses: { 200: json(ModelList, 'The models'), ...errorResponses },
});
const metrics = (open: boolean) =>
  createRoute({
    method: 'get', path: '/metrics', tags: ['meta'], operationId: 'meta.metrics', security: open ? [] : BEARER,
    summary: 'Prometheus metrics (text exposition format)',
    responses: {
      200: { description: 'The metrics', content: { 'text/plain': { schema: z.string() } } },
      401: errorResponses[401],
    },
  });

export function registerMetaRoutes(app: OpenAPIHono, deps: HttpDeps): void {
  const version = deps.version;
  app.openapi(health, (c) => {
    const degraded = deps.degraded?.() ?? [];
    return c.json({ status: 'ok' as const, version, ...(degraded.length > 0 ? { degraded } : {}) }, 200);
  });
  app.openapi(ready, async (c) => {
    const state = deps.readiness ? await deps.readiness() : { ready: true as const };
    if (state.ready) return c.json({ ready: true, version }, 200);
    c.header('Retry-After', '1');
    const { reason, code, degraded } = state;
    return c.json({ ready: false, reason, ...(code ? { code } : {}), ...(degraded ? { degraded } : {}), version }, 503);
  });
  app.openapi(models, async (c) => c.json(await deps.commands.execute('models.list', {}), 200));
  const registry = deps.metrics;
  if (registry) {
    app.openapi(metrics(registry.isPublic), async (c) => {
      const text = await registry.render();
      return c.text(text, 200, { 'content-type': registry.contentType });
    });
  }
}
