import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { BEARER, errorResponses } from '../schemas.js';

const route = createRoute({
  method: 'get', path: '/openapi.json', tags: ['meta'], operationId: 'meta.openapi', security: BEARER,
  summary: 'This document (OpenAPI 3.0): generate a typed client from it',
  responses: {
    200: { description: 'The OpenAPI document', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
    401: errorResponses[401],
  },
});

type Document = ReturnType<OpenAPIHono['getOpenAPIDocument']>;

/**
 * Serves the document generated from the routes' own schemas. Every operation names its command
 * (`operationId`), every shared schema is a component, and the bearer scheme applies to everything
 * but `/health` and `/ready` (a loopback Tower without a token accepts requests without it).
 */
export function registerOpenApiRoute(app: OpenAPIHono, version: string): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'The server token (`--token`, `TOWER_TOKEN`, or generated into <data-dir>/token on a non-loopback bind)',
  });
  let doc: Document | undefined;
  app.openapi(route, (c) => {
    doc ??= openApiDocument(app, version);
    return c.json(doc, 200);
  });
}

export function openApiDocument(app: OpenAPIHono, version: string): Document {
  return app.getOpenAPIDocument({
    openapi: '3.0.3',
    info: { title: 'Tower', version, description: 'Control tower for AI-agent sessions' },
    security: BEARER,
    tags: [
      { name: 'sessions', description: 'Create, read, update and delete sessions' },
      { name: 'turns', description: 'Send messages; the event stream' },
      { name: 'control', description: 'Steer, queue, interrupt and answer a running session' },
      { name: 'transfer', description: 'Fork, export and import' },
      { name: 'models', description: 'Configured models' },
      { name: 'runners', description: 'Remote runners: tokens, status' },
      { name: 'meta', description: 'Health, readiness, metrics and this document' },
    ],
  });
}
