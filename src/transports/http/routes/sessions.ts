import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  CreateSessionBody,
  DeleteResult,
  ErrorBody,
  ListSessionsQuery,
  MessageList,
  SessionList,
  SessionModels,
  SessionStatusBody,
  SnapshotBody,
  StarredBody,
  TitleBody,
  UpdateSessionBody,
  WaitParam,
} from '../../../protocol/api.js';
import { Session } from '../../../protocol/session.js';
import type { HttpDeps } from '../deps.js';
import { BEARER, SessionIdParams, bodyErrorResponses, errorResponses, json, jsonBody } from '../schemas.js';

const tags = ['sessions'];
const security = BEARER;
const unknownModel = json(ErrorBody, 'Unknown model (unknown_model)');

const create = createRoute({
  method: 'post', path: '/api/sessions', tags, security, operationId: 'sessions.create', summary: 'Create a session',
  request: { body: jsonBody(CreateSessionBody) },
  responses: { 201: json(Session, 'The new session'), 422: unknownModel, ...errorResponses, ...bodyErrorResponses },
});
const list = createRoute({
  method: 'get', path: '/api/sessions', tags, security, operationId: 'sessions.list', summary: 'List sessions, newest first',
  request: { query: ListSessionsQuery },
  responses: { 200: json(SessionList, 'A page of sessions'), ...errorResponses },
});
const get = createRoute({
  method: 'get', path: '/api/sessions/{id}', tags, security, operationId: 'sessions.get', summary: 'Get a session',
  request: { params: SessionIdParams },
  responses: { 200: json(Session, 'The session'), ...errorResponses },
});
const update = createRoute({
  method: 'patch', path: '/api/sessions/{id}', tags, security, operationId: 'sessions.update',
  summary: 'Rename, star, switch model or permissions',
  request: { params: SessionIdParams, body: jsonBody(UpdateSessionBody) },
  responses: { 200: json(Session, 'The updated session'), 422: unknownModel, ...errorResponses, ...bodyErrorResponses },
});
const remove = createRoute({
  method: 'delete', path: '/api/sessions/{id}', tags, security, operationId: 'sessions.delete',
  summary: 'Delete a session (stops its turn first)',
  request: { params: SessionIdParams },
  responses: { 200: json(DeleteResult, 'Deleted'), ...errorResponses },
});
const snapshot = createRoute({
  method: 'get', path: '/api/sessions/{id}/snapshot', tags, security, operationId: 'sessions.snapshot',
  summary: 'Session, conversation and last_event_seq, read together: tail events from last_event_seq',
  request: { params: SessionIdParams },
  responses: { 200: json(SnapshotBody, 'The snapshot'), ...errorResponses },
});
const messages = createRoute({
  method: 'get', path: '/api/sessions/{id}/messages', tags, security, operationId: 'sessions.messages', summary: 'The conversation',
  request: { params: SessionIdParams },
  responses: { 200: json(MessageList, 'The conversation'), ...errorResponses },
});
const title = createRoute({
  method: 'patch', path: '/api/sessions/{id}/title', tags, security, operationId: 'sessions.set_title', summary: 'Rename a session',
  request: { params: SessionIdParams, body: jsonBody(TitleBody) },
  responses: { 200: json(Session, 'The updated session'), ...errorResponses, ...bodyErrorResponses },
});
const starred = createRoute({
  method: 'patch', path: '/api/sessions/{id}/starred', tags, security, operationId: 'sessions.set_starred',
  summary: 'Star or unstar a session',
  request: { params: SessionIdParams, body: jsonBody(StarredBody) },
  responses: { 200: json(Session, 'The updated session'), ...errorResponses, ...bodyErrorResponses },
});
const models = createRoute({
  method: 'get', path: '/api/sessions/{id}/models', tags, security, operationId: 'sessions.models',
  summary: 'Models the session can switch to, the current one marked',
  request: { params: SessionIdParams },
  responses: { 200: json(SessionModels, 'The choices'), ...errorResponses },
});
const status = createRoute({
  method: 'get', path: '/api/sessions/{id}/status', tags, security, operationId: 'sessions.status',
  summary: 'Live state: running or idle, pending confirmations and questions, queue depths; `wait` blocks until idle',
  request: { params: SessionIdParams, query: z.object({ wait: WaitParam.optional() }) },
  responses: { 200: json(SessionStatusBody, 'The status'), ...errorResponses },
});

/** Thin adapters: the wire shape is validated here, the command (and its errors) is core's. */
export function registerSessionRoutes(app: OpenAPIHono, { commands }: HttpDeps): void {
  const run = commands.execute.bind(commands);
  app.openapi(create, async (c) => c.json(await run('sessions.create', c.req.valid('json')), 201));
  app.openapi(list, async (c) => c.json(await run('sessions.list', c.req.valid('query')), 200));
  app.openapi(get, async (c) => c.json(await run('sessions.get', { session_id: c.req.valid('param').id }), 200));
  const patch = (id: string, body: UpdateSessionBody) => run('sessions.update', { session_id: id, ...body });
  app.openapi(update, async (c) => c.json(await patch(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(title, async (c) => c.json(await patch(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(starred, async (c) => c.json(await patch(c.req.valid('param').id, c.req.valid('json')), 200));
  app.openapi(remove, async (c) => c.json(await run('sessions.delete', { session_id: c.req.valid('param').id }), 200));
  app.openapi(models, async (c) => c.json(await run('sessions.models', { session_id: c.req.valid('param').id }), 200));
  app.openapi(status, async (c) => {
    const wait = c.req.valid('query').wait;
    return c.json(await run('sessions.status', { session_id: c.req.valid('param').id, ...(wait !== undefined ? { wait_ms: wait } : {}) }), 200);
  });
  app.openapi(snapshot, async (c) => c.json(await run('sessions.snapshot', { session_id: c.req.valid('param').id }), 200));
  app.openapi(messages, async (c) => c.json(await run('sessions.messages', { session_id: c.req.valid('param').id }), 200));
}
