import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
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
import { SessionIdParams, errorResponses, json, jsonBody } from '../schemas.js';

const tags = ['transfer'];

const fork = createRoute({
  method: 'post', path: '/api/sessions/{id}/fork', tags,
  summary: 'A new session with the conversation before the user message at message_index',
  request: { params: SessionIdParams, body: jsonBody(ForkBody) },
  responses: { 201: json(Session, 'The fork'), ...errorResponses },
});
const exportOne = createRoute({
  method: 'get', path: '/api/sessions/{id}/export', tags, summary: 'Session, conversation and event log as JSON',
  request: { params: SessionIdParams },
  responses: { 200: json(SessionExport, 'The export'), ...errorResponses },
});
const importOne = createRoute({
  method: 'post', path: '/api/sessions/import', tags, summary: 'Restore an export under its id',
  request: { body: jsonBody(SessionImportBody) },
  responses: { 201: json(Session, 'The imported session'), 409: json(ErrorBody, 'The id exists'), ...errorResponses },
});
const batchDelete = createRoute({
  method: 'post', path: '/api/sessions/batch/delete', tags, summary: 'Delete several sessions',
  request: { body: jsonBody(BatchIdsBody) },
  responses: { 200: json(BatchDeleteResult, 'How many were deleted, and which failed'), ...errorResponses },
});
const batchExport = createRoute({
  method: 'post', path: '/api/sessions/batch/export', tags, summary: 'Export several sessions',
  request: { body: jsonBody(BatchIdsBody) },
  responses: { 200: json(BatchExportResult, 'The exports, and the ids not found'), ...errorResponses },
});

export function registerTransferRoutes(app: OpenAPIHono, { manager }: HttpDeps): void {
  // Batch and import routes come first: `/api/sessions/batch/...` must not be read as a session id.
  app.openapi(importOne, async (c) => c.json(await manager.import(c.req.valid('json')), 201));
  app.openapi(batchDelete, async (c) => c.json(await manager.batchDelete(c.req.valid('json').ids), 200));
  app.openapi(batchExport, async (c) => c.json(await manager.batchExport(c.req.valid('json').ids), 200));
  app.openapi(fork, async (c) =>
    c.json(await manager.fork(c.req.valid('param').id, c.req.valid('json').message_index), 201),
  );
  app.openapi(exportOne, async (c) => c.json(await manager.export(c.req.valid('param').id), 200));
}
