import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  ConfirmationBody,
  ElicitationBody,
  ErrorBody,
  FollowupAccepted,
  InterruptBody,
  InterruptResult,
  MessagesBody,
  QueueState,
  ResolvedResult,
  SteerAccepted,
  ToggleResult,
} from '../../../protocol/api.js';
import type { HttpDeps } from '../deps.js';
import { BEARER, SessionIdParams, bodyErrorResponses, errorResponses, json, jsonBody, optionalJsonBody } from '../schemas.js';

const tags = ['control'];
const security = BEARER;
const full = (what: string) => json(ErrorBody, `${what} queue is full (Retry-After: 1)`);
const answered = json(ErrorBody, 'Already answered (conflict)');

const steer = createRoute({
  method: 'post', path: '/api/sessions/{id}/steer', tags, security, operationId: 'sessions.steer',
  summary: 'Inject messages into the running turn, after its current tool calls and before its next model call',
  request: { params: SessionIdParams, body: jsonBody(MessagesBody) },
  responses: {
    202: json(SteerAccepted, 'Queued for injection'),
    409: json(ErrorBody, 'No turn is running (session_idle)'),
    429: full('The steer'),
    ...errorResponses,
    ...bodyErrorResponses,
  },
});
const followup = createRoute({
  method: 'post', path: '/api/sessions/{id}/followup', tags, security, operationId: 'sessions.follow_up',
  summary: 'Queue messages that each start a turn of their own when the current one ends (FIFO)',
  request: {
    params: SessionIdParams,
    body: jsonBody(MessagesBody),
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }),
  },
  responses: {
    202: json(FollowupAccepted, 'Queued (or a duplicate of an earlier call)'),
    429: full('The follow-up'),
    ...errorResponses,
    ...bodyErrorResponses,
  },
});
const queue = createRoute({
  method: 'get', path: '/api/sessions/{id}/queue', tags, security, operationId: 'sessions.queue',
  summary: 'Depth, capacity and items of both queues',
  request: { params: SessionIdParams },
  responses: { 200: json(QueueState, 'The queues'), ...errorResponses },
});
const interrupt = createRoute({
  method: 'post', path: '/api/sessions/{id}/interrupt', tags, security, operationId: 'sessions.interrupt',
  summary: 'Abort the running turn (model call and tools); returns once the session is ready again. The body may be left out',
  request: { params: SessionIdParams, body: optionalJsonBody(InterruptBody) },
  responses: { 200: json(InterruptResult, 'Interrupted, or nothing was running'), ...errorResponses, ...bodyErrorResponses },
});
const confirm = createRoute({
  method: 'post', path: '/api/sessions/{id}/confirmations/{tool_call_id}', tags, security, operationId: 'confirmations.answer',
  summary: 'Answer a tool-call confirmation',
  request: { params: SessionIdParams.extend({ tool_call_id: z.string().min(1).max(200) }), body: jsonBody(ConfirmationBody) },
  responses: { 200: json(ResolvedResult, 'Answered'), 409: answered, ...errorResponses, ...bodyErrorResponses },
});
const elicit = createRoute({
  method: 'post', path: '/api/sessions/{id}/elicitations/{elicitation_id}', tags, security, operationId: 'elicitations.answer',
  summary: 'Answer a question the agent asked',
  request: { params: SessionIdParams.extend({ elicitation_id: z.string().min(1).max(200) }), body: jsonBody(ElicitationBody) },
  responses: { 200: json(ResolvedResult, 'Answered'), 409: answered, ...errorResponses, ...bodyErrorResponses },
});
const toggle = createRoute({
  method: 'post', path: '/api/sessions/{id}/tools/toggle', tags, security, operationId: 'sessions.toggle_auto_approve',
  summary: 'Toggle auto-approve of tool calls',
  request: { params: SessionIdParams },
  responses: { 200: json(ToggleResult, 'The new setting'), ...errorResponses },
});

export function registerControlRoutes(app: OpenAPIHono, { commands }: HttpDeps): void {
  const run = commands.execute.bind(commands);
  app.openapi(steer, async (c) =>
    c.json(await run('sessions.steer', { session_id: c.req.valid('param').id, ...c.req.valid('json') }), 202),
  );
  app.openapi(followup, async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    const params = { session_id: c.req.valid('param').id, ...c.req.valid('json'), ...(key !== undefined ? { idempotency_key: key } : {}) };
    return c.json(await run('sessions.follow_up', params), 202);
  });
  app.openapi(queue, async (c) => c.json(await run('sessions.queue', { session_id: c.req.valid('param').id }), 200));
  app.openapi(interrupt, async (c) =>
    c.json(await run('sessions.interrupt', { session_id: c.req.valid('param').id, ...c.req.valid('json') }), 200),
  );
  app.openapi(confirm, async (c) => {
    const { id, tool_call_id } = c.req.valid('param');
    return c.json(await run('confirmations.answer', { session_id: id, tool_call_id, ...c.req.valid('json') }), 200);
  });
  app.openapi(elicit, async (c) => {
    const { id, elicitation_id } = c.req.valid('param');
    return c.json(await run('elicitations.answer', { session_id: id, elicitation_id, ...c.req.valid('json') }), 200);
  });
  app.openapi(toggle, async (c) =>
    c.json(await run('sessions.toggle_auto_approve', { session_id: c.req.valid('param').id }), 200),
  );
}
