import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  BatchDeleteResult,
  BatchExportResult,
  BatchIdsBody,
  ErrorBody,
  ForkBody,
  SessionExport,
  SessionImportBody,
} from '../../../protocol/api.js';
import { Session } from '../../../protocol/session.js';
import type { HttpDeps } from '../deps.js';
import { BEARER, BooleanQuery, SessionIdParams, bodyErrorResponses, errorResponses, json, jsonBody } from '../schemas.js';

const tags = ['transfer'];
const security = BEARER;

const fork = createRoute({
  method: 'post', path: '/api/sessions/{id}/fork', tags, security, operationId: 'sessions.fork',
  summary: 'A new session with the conversation before the user message at message_index',
  request: { params: SessionIdParams, body: jsonBody(ForkBody) },
  responses: { 201: json(Session, 'The fork'), ...errorResponses, ...bodyErrorResponses },
});
const exportOne = createRoute({
  method: 'get', path: '/api/sessions/{id}/export', tags, security, operationId: 'sessions.export',
  summary: 'Session, conversation and event log as JSON',
  request: { params: SessionIdParams },
  responses: { 200: json(SessionExport, 'The export'), ...errorResponses },
});
const importOne = createRoute({
  method: 'post', path: '/api/sessions/import', tags, security, operationId: 'sessions.import',
  summary: 'Restore an export under its id, or under a fresh one with ?as_new=true (everything else kept)',
  request: { query: z.object({ as_new: BooleanQuery.optional() }), body: jsonBody(SessionImportBody) },
  responses: {
    201: json(Session, 'The imported session'),
    409: json(ErrorBody, 'A session with that id exists (conflict): import with ?as_new=true'),
    ...errorResponses,
    ...bodyErrorResponses,
  },
});
const batchDelete = createRoute({
  method: 'post', path: '/api/sessions/batch/delete', tags, security, operationId: 'sessions.batch_delete',
  summary: 'Delete several sessions',
  request: { body: jsonBody(BatchIdsBody) },
  responses: { 200: json(BatchDeleteResult, 'How many were deleted, and which failed'), ...errorResponses, ...bodyErrorResponses },
});
const batchExport = createRoute({
  method: 'post', path: '/api/sessions/batch/export', tags, security, operationId: 'sessions.batch_export',
  summary: 'Export several sessions',
  request: { body: jsonBody(BatchIdsBody) },
  responses: { 200: json(BatchExportResult, 'The exports, and the ids not found'), ...errorResponses, ...bodyErrorResponses },
});

export function registerTransferRoutes(app: OpenAPIHono, { commands }: HttpDeps): void {
  const run = commands.execute.bind(commands);
  // Batch and import routes come first: `/api/sessions/batch/...` must not be read as a session id.
  app.openapi(importOne, async (c) => {
    const asNew = c.req.valid('query').as_new === true;
    return c.json(await run('sessions.import', { data: c.req.valid('json'), ...(asNew ? { as_new: true } : {}) }), 201);
  });
  app.openapi(batchDelete, async (c) => c.json(await run('sessions.batch_delete', c.req.valid('json')), 200));
  app.openapi(batchExport, async (c) => c.json(await run('sessions.batch_export', c.req.valid('json')), 200));
  app.openapi(fork, async (c) =>
    c.json(await run('sessions.fork', { session_id: c.req.valid('param').id, message_index: c.req.valid('json').message_index }), 201),
  );
  app.openapi(exportOne, async (c) => c.json(await run('sessions.export', { session_id: c.req.valid('param').id }), 200));
}
