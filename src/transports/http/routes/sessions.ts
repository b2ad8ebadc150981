import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  CreateSessionBody,
  DeleteResult,
  ListSessionsQuery,
  SessionList,
  SnapshotBody,
  UpdateSessionBody,
  MessageList,
  ErrorBody,
  SessionModels,
  SessionStatusBody,
  StarredBody,
  TitleBody,
  WaitParam,
} from '../../../protocol/api.js';
import { z } from '@hono/zod-openapi';
import { Session } from '../../../protocol/session.js';
import type { HttpDeps } from '../deps.js';
import { SessionIdParams, errorResponses, json, jsonBody } from '../schemas.js';

const tags = ['sessions'];

const create = createRoute({
  method: 'post', path: '/api/sessions', tags, summary: 'Create a session',
  request: { body: jsonBody(CreateSessionBody) },
  responses: {
    201: json(Session, 'The new session'),
    422: json(ErrorBody, 'Unknown model'),
    ...errorResponses,
  },
});
const list = createRoute({
  method: 'get', path: '/api/sessions', tags, summary: 'List sessions, newest first',
  request: { query: ListSessionsQuery },
  responses: { 200: json(SessionList, 'A page of sessions'), ...errorResponses },
});
const get = createRoute({
  method: 'get', path: '/api/sessions/{id}', tags, summary: 'Get a session',
  request: { params: SessionIdParams },
  responses: { 200: json(Session, 'The session'), ...errorResponses },
});
const update = createRoute({
  method: 'patch', path: '/api/sessions/{id}', tags, summary: 'Rename, star, switch model or permissions',
  request: { params: SessionIdParams, body: jsonBody(UpdateSessionBody) },
  responses: { 200: json(Session, 'The updated session'), 422: json(ErrorBody, 'Unknown model'), ...errorResponses },
});
const remove = createRoute({
  method: 'delete', path: '/api/sessions/{id}', tags, summary: 'Delete a session (stops its turn first)',
  request: { params: SessionIdParams },
  responses: { 200: json(DeleteResult, 'Deleted'), ...errorResponses },
});
const snapshot = createRoute({
  method: 'get', path: '/api/sessions/{id}/snapshot', tags,
  summary: 'Session, conversation and last_event_seq, read together: tail events from last_event_seq',
  request: { params: SessionIdParams },
  responses: { 200: json(SnapshotBody, 'The snapshot'), ...errorResponses },
});
const messages = createRoute({
  method: 'get', path: '/api/sessions/{id}/messages', tags, summary: 'The conversation',
  request: { params: SessionIdParams },
  responses: { 200: json(MessageList, 'The conversation'), ...errorResponses },
});

const title = createRoute({
  method: 'patch', path: '/api/sessions/{id}/title', tags, summary: 'Rename a session',
  request: { params: SessionIdParams, body: jsonBody(TitleBody) },
  responses: { 200: json(Session, 'The updated session'), ...errorResponses },
});
const starred = createRoute({
  method: 'patch', path: '/api/sessions/{id}/starred', tags, summary: 'Star or unstar a session',
  request: { params: SessionIdParams, body: jsonBody(StarredBody) },
  responses: { 200: json(Session, 'The updated session'), ...errorResponses },
});
const models = createRoute({
  method: 'get', path: '/api/sessions/{id}/models', tags, summary: 'Models the session can switch to, the current one marked',
  request: { params: SessionIdParams },
  responses: { 200: json(SessionModels, 'The choices'), ...errorResponses },
});
const status = createRoute({
  method: 'get', path: '/api/sessions/{id}/status', tags,
  summary: 'Live state: running or idle, pending confirmations and questions, queue depths; `wait` blocks until idle',
  request: { params: SessionIdParams, query: z.object({ wait: WaitParam.optional() }) },
  responses: { 200: json(SessionStatusBody, 'The status'), ...errorResponses },
});

export function registerSessionRoutes(app: OpenAPIHono, { manager }: HttpDeps): void {
  app.openapi(create, async (c) => c.json(await manager.create(c.req.valid('json')), 201));
  app.openapi(list, async (c) => c.json(await manager.list(c.req.valid('query')), 200));
  app.openapi(get, async (c) => c.json(await manager.get(c.req.valid('param').id), 200));
  app.openapi(update, async (c) =>
    c.json(await manager.update(c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(remove, async (c) => {
    await manager.delete(c.req.valid('param').id);
    return c.json({ deleted: true as const }, 200);
  });
  app.openapi(title, async (c) => c.json(await manager.update(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(starred, async (c) => c.json(await manager.update(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(models, async (c) => c.json(await manager.control.sessionModels(c.req.valid('param').id), 200));
  app.openapi(status, async (c) =>
    c.json(await manager.control.status(c.req.valid('param').id, c.req.valid('query').wait ?? 0), 200),
  );
  app.openapi(snapshot, async (c) => c.json(await manager.snapshot(c.req.valid('param').id), 200));
  app.openapi(messages, async (c) =>
    c.json({ messages: await manager.messages(c.req.valid('param').id) }, 200),
  );
}
