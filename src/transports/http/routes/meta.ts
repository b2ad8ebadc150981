import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ModelList } from '../../../protocol/api.js';
import type { HttpDeps } from '../deps.js';
import { errorResponses, json } from '../schemas.js';

const Health = z.object({ status: z.literal('ok'), version: z.string() });

const health = createRoute({
  method: 'get', path: '/health', tags: ['meta'], summary: 'Liveness (no auth)',
  responses: { 200: json(Health, 'Alive') },
});
const ready = createRoute({
  method: 'get', path: '/ready', tags: ['meta'], summary: 'Readiness (no auth)',
  responses: { 200: json(Health, 'Ready to serve') },
});
const models = createRoute({
  method: 'get', path: '/api/models', tags: ['models'], summary: 'Configured models and the default',
  responses: { 200: json(ModelList, 'The models'), ...errorResponses },
});

export function registerMetaRoutes(app: OpenAPIHono, deps: HttpDeps): void {
  const ok = { status: 'ok' as const, version: deps.version };
  app.openapi(health, (c) => c.json(ok, 200));
  app.openapi(ready, (c) => c.json(ok, 200));
  app.openapi(models, (c) => c.json({ models: deps.models.list(), default: deps.models.defaultModel }, 200));
}
