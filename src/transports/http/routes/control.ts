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
import { TowerError } from '../../../protocol/errors.js';
import { SessionIdParams, errorResponses, json, jsonBody } from '../schemas.js';

const tags = ['control'];
const full = (what: string) => json(ErrorBody, `${what} queue is full (Retry-After: 1)`);

const steer = createRoute({
  method: 'post', path: '/api/sessions/{id}/steer', tags,
  summary: 'Inject messages into the running turn, after its current tool calls and before its next model call',
  request: { params: SessionIdParams, body: jsonBody(MessagesBody) },
  responses: { 202: json(SteerAccepted, 'Queued for injection'), 409: json(ErrorBody, 'No turn is running (session_idle)'), 429: full('The steer'), ...errorResponses },
});
const followup = createRoute({
  method: 'post', path: '/api/sessions/{id}/followup', tags,
  summary: 'Queue messages that each start a turn of their own when the current one ends (FIFO)',
  request: {
    params: SessionIdParams,
    body: jsonBody(MessagesBody),
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }),
  },
  responses: { 202: json(FollowupAccepted, 'Queued (or a duplicate of an earlier call)'), 429: full('The follow-up'), ...errorResponses },
});
const queue = createRoute({
  method: 'get', path: '/api/sessions/{id}/queue', tags, summary: 'Depth, capacity and items of both queues',
  request: { params: SessionIdParams },
  responses: { 200: json(QueueState, 'The queues'), ...errorResponses },
});
const interrupt = createRoute({
  method: 'post', path: '/api/sessions/{id}/interrupt', tags,
  summary: 'Abort the running turn (model call and tools); returns once the session is ready again',
  // The body is optional (an empty POST interrupts), so it is validated in the handler.
  request: { params: SessionIdParams },
  responses: { 200: json(InterruptResult, 'Interrupted, or nothing was running'), ...errorResponses },
});
const confirm = createRoute({
  method: 'post', path: '/api/sessions/{id}/confirmations/{tool_call_id}', tags, summary: 'Answer a tool-call confirmation',
  request: { params: SessionIdParams.extend({ tool_call_id: z.string().min(1).max(200) }), body: jsonBody(ConfirmationBody) },
  responses: { 200: json(ResolvedResult, 'Answered'), 409: json(ErrorBody, 'Already answered'), ...errorResponses },
});
const elicit = createRoute({
  method: 'post', path: '/api/sessions/{id}/elicitations/{elicitation_id}', tags, summary: 'Answer a question the agent asked',
  request: { params: SessionIdParams.extend({ elicitation_id: z.string().min(1).max(200) }), body: jsonBody(ElicitationBody) },
  responses: { 200: json(ResolvedResult, 'Answered'), 409: json(ErrorBody, 'Already answered'), ...errorResponses },
});
const toggle = createRoute({
  method: 'post', path: '/api/sessions/{id}/tools/toggle', tags, summary: 'Toggle auto-approve of tool calls',
  request: { params: SessionIdParams },
  responses: { 200: json(ToggleResult, 'The new setting'), ...errorResponses },
});

export function registerControlRoutes(app: OpenAPIHono, { manager }: HttpDeps): void {
  const { control } = manager;
  const contents = (body: MessagesBody) => body.messages.map((m) => m.content);
  app.openapi(steer, async (c) => c.json(await control.steer(c.req.valid('param').id, contents(c.req.valid('json'))), 202));
  app.openapi(followup, async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    return c.json(await control.followup(c.req.valid('param').id, contents(c.req.valid('json')), key), 202);
  });
  app.openapi(queue, async (c) => c.json(await control.queue(c.req.valid('param').id), 200));
  app.openapi(interrupt, async (c) => {
    const raw = await c.req.text();
    const parsed = InterruptBody.safeParse(raw.trim() ? safeJson(raw) : {});
    if (!parsed.success) throw new TowerError('invalid_request', `Invalid body: ${parsed.error.issues[0]?.message ?? 'bad input'}`);
    return c.json(await control.interrupt(c.req.valid('param').id, { clearQueue: parsed.data.clear_queue === true }), 200);
  });
  app.openapi(confirm, async (c) => {
    const { id, tool_call_id } = c.req.valid('param');
    await control.confirm(id, tool_call_id, c.req.valid('json'));
    return c.json({ resolved: true as const }, 200);
  });
  app.openapi(elicit, async (c) => {
    const { id, elicitation_id } = c.req.valid('param');
    await control.answerElicitation(id, elicitation_id, c.req.valid('json'));
    return c.json({ resolved: true as const }, 200);
  });
  app.openapi(toggle, async (c) => c.json(await control.toggleAutoApprove(c.req.valid('param').id), 200));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return Symbol('malformed JSON');
  }
}
