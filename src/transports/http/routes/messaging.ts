import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ErrorBody } from '../../../protocol/api.js';
import {
  InboxList,
  InboxMessage,
  InboxStatus,
  MessageKind,
  PartyType,
  PostResult,
  Thread,
  ThreadList,
  ThreadMessagesPage,
  ThreadStatus,
} from '../../../protocol/messaging.js';
import { TelemetryList } from '../../../protocol/telemetry.js';
import type { HttpDeps } from '../deps.js';
import { BEARER, errorResponses, json, jsonBody } from '../schemas.js';

/** Adapters from HTTP to the messaging commands: each route only reshapes its request. */

const tags = ['messaging'];
const security = BEARER;
const Id = z.string().min(1).max(200);
const Count = (max: number) => z.coerce.number().int().min(1).max(max);
const Seq = z.string().regex(/^\d{1,15}$/, 'must be a non-negative integer').transform(Number);
const ThreadParams = z.object({ id: Id });
const InboxParams = z.object({ inbox: Id });
const InboxItemParams = z.object({ inbox: Id, id: Id });
const conflict = { 409: json(ErrorBody, 'Already exists') };

const CreateThreadBody = z.object({ id: Id.optional(), title: z.string().max(500).optional(), status: ThreadStatus.optional() }).strict();
const PostBody = z
  .object({
    from_type: PartyType.optional(),
    from_id: Id.optional(),
    to_type: PartyType.optional(),
    to_id: z.string().max(200).optional(),
    kind: MessageKind.optional(),
    subject: z.string().max(500).optional(),
    content: z.string().min(1).max(100_000),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const StatusBody = z.object({ status: ThreadStatus }).strict();
const InboxStatusBody = z.object({ status: InboxStatus }).strict();
const InboxSendBody = z
  .object({
    message_id: Id.optional(),
    correlation_id: Id.optional(),
    from_agent: Id,
    message_type: InboxMessage.shape.message_type.optional(),
    title: z.string().max(500).optional(),
    payload: z.string().max(100_000).optional(),
  })
  .strict();
const ReplyBody = z.object({ from_agent: Id.optional(), title: z.string().max(500).optional(), payload: z.string().min(1).max(100_000) }).strict();

const routes = {
  listThreads: createRoute({
    method: 'get', path: '/api/threads', tags, security, operationId: 'threads.list', summary: 'Threads, most recently updated first',
    request: { query: z.object({ status: ThreadStatus.optional(), limit: Count(500).optional() }) },
    responses: { 200: json(ThreadList, 'Threads'), ...errorResponses },
  }),
  createThread: createRoute({
    method: 'post', path: '/api/threads', tags, security, operationId: 'threads.create', summary: 'Create a thread',
    request: { body: jsonBody(CreateThreadBody) },
    responses: { 201: json(Thread, 'Created'), ...conflict, ...errorResponses },
  }),
  getThread: createRoute({
    method: 'get', path: '/api/threads/{id}', tags, security, operationId: 'threads.get', summary: 'One thread (status, last_seq)',
    request: { params: ThreadParams },
    responses: { 200: json(Thread, 'The thread'), ...errorResponses },
  }),
  readThread: createRoute({
    method: 'get', path: '/api/threads/{id}/messages', tags, security, operationId: 'threads.read', summary: 'Messages after a message_seq, ascending',
    request: { params: ThreadParams, query: z.object({ after_seq: Seq.optional(), limit: Count(500).optional() }) },
    responses: { 200: json(ThreadMessagesPage, 'A page of messages'), ...errorResponses },
  }),
  post: createRoute({
    method: 'post', path: '/api/threads/{id}/messages', tags, security, operationId: 'threads.post', summary: 'Post a message (message_seq assigned by the store)',
    request: { params: ThreadParams, body: jsonBody(PostBody) },
    responses: { 201: json(PostResult, 'Posted'), ...errorResponses },
  }),
  setStatus: createRoute({
    method: 'post', path: '/api/threads/{id}/status', tags, security, operationId: 'threads.set_status', summary: 'Change a thread status (active, paused, resolved, archived)',
    request: { params: ThreadParams, body: jsonBody(StatusBody) },
    responses: { 200: json(Thread, 'The thread'), ...errorResponses },
  }),
  listInbox: createRoute({
    method: 'get', path: '/api/inbox/{inbox}', tags, security, operationId: 'inbox.list', summary: 'Messages of an inbox, oldest first',
    request: { params: InboxParams, query: z.object({ status: InboxStatus.optional(), limit: Count(500).optional() }) },
    responses: { 200: json(InboxList, 'Inbox messages'), ...errorResponses },
  }),
  sendInbox: createRoute({
    method: 'post', path: '/api/inbox/{inbox}', tags, security, operationId: 'inbox.send', summary: 'Put a message into an inbox',
    request: { params: InboxParams, body: jsonBody(InboxSendBody) },
    responses: { 201: json(InboxMessage, 'Stored'), ...errorResponses },
  }),
  readInbox: createRoute({
    method: 'get', path: '/api/inbox/{inbox}/{id}', tags, security, operationId: 'inbox.read', summary: 'Read one inbox message (marks it read)',
    request: { params: InboxItemParams },
    responses: { 200: json(InboxMessage, 'The message'), ...errorResponses },
  }),
  reply: createRoute({
    method: 'post', path: '/api/inbox/{inbox}/{id}/reply', tags, security, operationId: 'inbox.reply', summary: "Answer a message: the reply goes to its sender's inbox, same correlation_id",
    request: { params: InboxItemParams, body: jsonBody(ReplyBody) },
    responses: { 201: json(InboxMessage, 'The reply'), ...errorResponses },
  }),
  inboxStatus: createRoute({
    method: 'post', path: '/api/inbox/{inbox}/{id}/status', tags, security, operationId: 'inbox.set_status', summary: 'Mark a message unread, read or archived',
    request: { params: InboxItemParams, body: jsonBody(InboxStatusBody) },
    responses: { 200: json(InboxMessage, 'The message'), ...errorResponses },
  }),
  telemetry: createRoute({
    method: 'get', path: '/api/telemetry', tags, security, operationId: 'telemetry.get', summary: 'Telemetry of every session Tower has seen since it started',
    responses: { 200: json(TelemetryList, 'Per-session telemetry'), ...errorResponses },
  }),
};

const defined = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function registerMessagingRoutes(app: OpenAPIHono, { commands }: HttpDeps): void {
  app.openapi(routes.listThreads, async (c) => c.json(await commands.execute('threads.list', defined(c.req.valid('query'))), 200));
  app.openapi(routes.createThread, async (c) => c.json(await commands.execute('threads.create', c.req.valid('json')), 201));
  app.openapi(routes.getThread, async (c) => {
    const page = await commands.execute('threads.read', { thread_id: c.req.valid('param').id, limit: 1 });
    return c.json(page.thread, 200);
  });
  app.openapi(routes.readThread, async (c) => {
    const q = c.req.valid('query');
    return c.json(await commands.execute('threads.read', defined({ thread_id: c.req.valid('param').id, after_seq: q.after_seq, limit: q.limit })), 200);
  });
  app.openapi(routes.post, async (c) =>
    c.json(await commands.execute('threads.post', { ...c.req.valid('json'), thread_id: c.req.valid('param').id }), 201),
  );
  app.openapi(routes.setStatus, async (c) =>
    c.json(await commands.execute('threads.set_status', { thread_id: c.req.valid('param').id, status: c.req.valid('json').status }), 200),
  );
  app.openapi(routes.listInbox, async (c) =>
    c.json(await commands.execute('inbox.list', defined({ inbox: c.req.valid('param').inbox, ...c.req.valid('query') })), 200),
  );
  app.openapi(routes.sendInbox, async (c) =>
    c.json(await commands.execute('inbox.send', { ...c.req.valid('json'), to_inbox: c.req.valid('param').inbox }), 201),
  );
  app.openapi(routes.readInbox, async (c) => c.json(await commands.execute('inbox.read', c.req.valid('param')), 200));
  app.openapi(routes.reply, async (c) => c.json(await commands.execute('inbox.reply', { ...c.req.valid('json'), ...c.req.valid('param') }), 201));
  app.openapi(routes.inboxStatus, async (c) =>
    c.json(await commands.execute('inbox.set_status', { ...c.req.valid('param'), status: c.req.valid('json').status }), 200),
  );
  app.openapi(routes.telemetry, async (c) => c.json(await commands.execute('telemetry.get', {}), 200));
}
