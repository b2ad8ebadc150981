import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { HttpDeps } from './deps.js';
import { bearerAuth } from './auth.js';
import { errorJson, onError, validationError } from './errors.js';
import { registerControlRoutes } from './routes/control.js';
import { registerMessagingRoutes } from './routes/messaging.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerTransferRoutes } from './routes/transfer.js';
import { registerTurnRoutes } from './routes/turns.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** The HTTP API: routes call the session manager; errors are mapped in errors.ts only. */
export function createHttpApp(deps: HttpDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error, result.target);
      return undefined;
    },
  });
  app.onError(onError(deps.logger));
  app.notFound((c) => errorJson(c, 404, { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` }));

  // Middleware applies only to routes registered after it: auth and limits come first.
  app.use('/api/*', bearerAuth(deps.token));
  app.use('/openapi.json', bearerAuth(deps.token));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => {
        // The rest of the body is never read: the socket cannot carry another request.
        c.header('Connection', 'close');
        return errorJson(c, 413, { code: 'payload_too_large', message: 'Request body is over 1 MiB' });
      },
    }),
  );
  registerMetaRoutes(app, deps);
  registerTransferRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerTurnRoutes(app, deps);
  registerControlRoutes(app, deps);
  registerMessagingRoutes(app, deps);

  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'Tower', version: deps.version, description: 'Control tower for AI-agent sessions' },
    security: deps.token ? [{ bearer: [] }] : [],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  return app;
}
