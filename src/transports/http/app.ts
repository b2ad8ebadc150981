import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { TowerError } from '../../protocol/errors.js';
import type { HttpDeps } from './deps.js';
import { bearerAuth } from './auth.js';
import { errorResponse, onError, validationError } from './errors.js';
import { emptyJsonMeansNoBody } from './optional-body.js';
import { nameSharedSchemas } from './openapi/components.js';
import { registerOpenApiRoute } from './openapi/document.js';
import { registerControlRoutes } from './routes/control.js';
import { registerMessagingRoutes } from './routes/messaging.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerRunnerRoutes } from './routes/runners.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerTransferRoutes } from './routes/transfer.js';
import { registerTurnRoutes } from './routes/turns.js';
import { registerDashboard } from './static.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The HTTP API: routes adapt the wire to core's commands; errors are mapped in errors.ts only. */
export function createHttpApp(deps: HttpDeps): OpenAPIHono {
  nameSharedSchemas();
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error, result.target);
      return undefined;
    },
  });
  app.onError(onError(deps.logger));
  app.notFound((c) => errorResponse(c, new TowerError('not_found', `No route for ${c.req.method} ${c.req.path}`)));

  // Middleware applies only to routes registered after it: auth and limits come first.
  app.use('/api/*', bearerAuth(deps.token));
  app.use('/openapi.json', bearerAuth(deps.token));
  if (deps.metrics && !deps.metrics.isPublic) app.use('/metrics', bearerAuth(deps.token));
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => {
      // The rest of the body is never read: the socket cannot carry another request.
      c.header('Connection', 'close');
      return errorResponse(c, new TowerError('payload_too_large', 'Request body is over 1 MiB'));
    },
  });
  // GET and HEAD carry no body. Skipping them matters for SSE: asking a request for its body makes
  // @hono/node-server build a full web Request (AbortController, Headers, URL: ~2 KB) that every open
  // event stream would then keep for its whole life.
  app.use('/api/*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  app.use('/api/sessions/:id/interrupt', emptyJsonMeansNoBody);
  registerMetaRoutes(app, deps);
  registerTransferRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerTurnRoutes(app, deps);
  registerControlRoutes(app, deps);
  registerMessagingRoutes(app, deps);
  registerRunnerRoutes(app, deps);
  registerOpenApiRoute(app, deps.version);
  registerDashboard(app);
  return app;
}
