import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ErrorBody, SINCE_DIGITS, SendMessageBody, SendResult, SinceParam } from '../../../protocol/api.js';
import { TowerError } from '../../../protocol/errors.js';
import type { HttpDeps } from '../deps.js';
import { validationError } from '../errors.js';
import { SessionEvent } from '../openapi/events.js';
import { BEARER, SessionIdParams, bodyErrorResponses, errorResponses, json, jsonBody } from '../schemas.js';
import { NodeSseWriter } from '../sse-node.js';
import { SseStream } from '../sse-stream.js';

const tags = ['turns'];
const security = BEARER;

const send = createRoute({
  method: 'post', path: '/api/sessions/{id}/messages', tags, security, operationId: 'sessions.send',
  summary: 'Send a user message: starts a turn',
  request: { params: SessionIdParams, body: jsonBody(SendMessageBody) },
  responses: {
    202: json(SendResult, 'The turn started ({seq, turn_id}: seq of its user_message), or the message was queued (on_busy: enqueue)'),
    409: json(ErrorBody, 'A turn is already running (session_busy)'),
    ...errorResponses,
    ...bodyErrorResponses,
  },
});

const EventsQuery = z.object({ since: SinceParam.optional() });
const EventsHeaders = z.object({ 'last-event-id': SinceParam.optional() });

const events = createRoute({
  method: 'get', path: '/api/sessions/{id}/events', tags, security, operationId: 'sessions.events',
  summary: 'The session event log as SSE: stored events after `since` (or Last-Event-ID), then live',
  request: { params: SessionIdParams, query: EventsQuery, headers: EventsHeaders },
  responses: {
    200: {
      description:
        'Server-Sent Events: each frame is `id: <seq>`, `event: <type>` and `data: <SessionEvent as JSON>`; a `: ping` comment every 15 s',
      content: { 'text/event-stream': { schema: SessionEvent } },
    },
    ...errorResponses,
  },
});

export function registerTurnRoutes(app: OpenAPIHono, { commands, manager, metrics, pingMs = 15_000 }: HttpDeps): void {
  app.openapi(send, async (c) => {
    const params = { session_id: c.req.valid('param').id, ...c.req.valid('json') };
    return c.json(await commands.execute('sessions.send', params), 202);
  });

  // Documented like every route, but validated here on the three values it reads, not by `openapi()`'s
  // validators: those build the whole query object and a web Headers of every header for each request,
  // and thousands of subscribers connecting at once pay that per connection (bench idle-memory).
  app.openAPIRegistry.registerPath(events);
  app.get('/api/sessions/:id/events', async (c) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    // The schemas decide; a value they plainly accept (absent, or digits) skips a zod parse.
    const sinceText = c.req.query('since');
    const query = sinceText === undefined || SINCE_DIGITS.test(sinceText) ? undefined : EventsQuery.safeParse({ since: sinceText });
    if (query && !query.success) return validationError(c, query.error, 'query');
    const params = SessionIdParams.safeParse({ id: c.req.param('id') });
    if (!params.success) return validationError(c, params.error, 'param');
    const lastEventId = incoming ? incoming.headers['last-event-id'] : c.req.header('last-event-id');
    const plainId = lastEventId === undefined || (typeof lastEventId === 'string' && SINCE_DIGITS.test(lastEventId));
    const headers = plainId ? undefined : EventsHeaders.safeParse({ 'last-event-id': lastEventId });
    if (headers && !headers.success) return validationError(c, headers.error, 'header');
    const { id } = params.data;
    // A reconnecting EventSource sends Last-Event-ID: it is newer than the since of its first URL.
    const since = Number(lastEventId ?? sinceText ?? 0);
    if (!Number.isSafeInteger(since)) throw new TowerError('invalid_request', 'since is too large');
    // On a real Node server write to the socket directly (its 'close' ends the subscription, so the
    // request's AbortSignal, ~1 KB per idle subscriber, is never created); elsewhere (app.request in
    // tests) a web stream. Either is the subscription's sink, held until its response has started.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) {
      const writer = new NodeSseWriter(outgoing, pingMs);
      const sub = await manager.subscribeSink(id, since, writer, { paused: true });
      writer.onEnded = metrics?.sinkSubscription('sse', sub);
      writer.start(sub);
      return RESPONSE_ALREADY_SENT;
    }
    const stream = new SseStream(pingMs);
    const sub = await manager.subscribeSink(id, since, stream, { paused: true, signal: c.req.raw.signal });
    stream.onEnded = metrics?.sinkSubscription('sse', sub);
    return stream.start(sub);
  });
}
