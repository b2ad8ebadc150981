import { z } from 'zod';
import { isTowerError } from '../../protocol/errors.js';
import { HandoffParams, InboxStatus, MessageKind } from '../../protocol/messaging.js';
import type { ToolSpec } from '../../protocol/tools.js';
import type { ToolExecutor, ToolResult } from '../../protocol/tools.js';
import { handoff, type SessionPort } from './handoff.js';
import type { MessagingService } from './service.js';

const Id = z.string().min(1).max(200);
const ARGS = {
  thread_post: z
    .object({ thread_id: Id, content: z.string().min(1).max(100_000), kind: MessageKind.optional(), subject: z.string().max(500).optional(), to_id: z.string().max(200).optional() })
    .strict(),
  thread_read: z
    .object({ thread_id: Id, after_seq: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(200).optional() })
    .strict(),
  inbox_list: z.object({ status: InboxStatus.optional() }).strict(),
  inbox_reply: z.object({ id: Id, payload: z.string().min(1).max(100_000), title: z.string().max(500).optional() }).strict(),
  handoff: z
    .object({
      to_session: Id.optional(),
      new_session: z.object({ title: z.string().max(500).optional(), working_dir: z.string().min(1).optional(), model: z.string().min(1).optional() }).strict().optional(),
      content: z.string().min(1).max(100_000),
      title: z.string().max(500).optional(),
    })
    .strict(),
} as const;
type ToolName = keyof typeof ARGS;

const obj = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });
const str = (description: string) => ({ type: 'string', description });

export const MESSAGING_TOOL_SPECS: ToolSpec[] = [
  {
    name: 'thread_post',
    description: 'Post a message into a shared thread other agents and people read (the thread is created if it does not exist). Returns the message with its message_seq.',
    parameters: obj(
      { thread_id: str('Thread id'), content: str('The message'), kind: { type: 'string', enum: MessageKind.options }, subject: str('Optional subject'), to_id: str('Optional addressee id') },
      ['thread_id', 'content'],
    ),
  },
  {
    name: 'thread_read',
    description: 'Read messages of a thread after a message_seq (default: from the start). Returns JSON {thread, messages, has_more}.',
    parameters: obj({ thread_id: str('Thread id'), after_seq: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 200 } }, ['thread_id']),
  },
  {
    name: 'inbox_list',
    description: "List the messages in this session's inbox (handoffs to you, replies to your handoffs). Returns JSON {messages}.",
    parameters: obj({ status: { type: 'string', enum: InboxStatus.options } }, []),
  },
  {
    name: 'inbox_reply',
    description: 'Answer an inbox message by id: the reply goes to the inbox of its sender with the same correlation_id.',
    parameters: obj({ id: str('Inbox message id'), payload: str('Your answer'), title: str('Optional title') }, ['id', 'payload']),
  },
  {
    name: 'handoff',
    description: 'Hand work to another session (to_session) or to a new one (new_session: {title?, working_dir?, model?}). It starts a turn there (or queues it); its reply lands in your inbox under the returned correlation_id.',
    parameters: obj(
      { to_session: str('Id of the session to hand to'), new_session: { type: 'object', properties: { title: { type: 'string' }, working_dir: { type: 'string' }, model: { type: 'string' } }, additionalProperties: false }, content: str('The work to do'), title: str('Short title') },
      ['content'],
    ),
  },
];

const isToolName = (name: string): name is ToolName => Object.hasOwn(ARGS, name);

/**
 * The messaging tools of one session. The session's id is its identity: `from_id` of its thread posts,
 * its inbox name, the sender of its handoffs. Calls pass the turn's permission gate like every tool.
 */
export function createMessagingTools(messaging: MessagingService, sessions: SessionPort, sessionId: string): ToolExecutor {
  const run = async (name: ToolName, args: unknown): Promise<unknown> => {
    switch (name) {
      case 'thread_post': {
        const a = ARGS.thread_post.parse(args);
        if (!(await messaging.store.getThread(a.thread_id))) {
          await messaging.createThread({ id: a.thread_id, title: a.subject ?? '' }).catch((err: unknown) => {
            if (!isTowerError(err) || err.code !== 'conflict') throw err;
          });
        }
        const { message } = await messaging.post(a.thread_id, {
          from_type: 'agent', from_id: sessionId, to_type: a.to_id ? 'agent' : 'broadcast', to_id: a.to_id ?? '',
          kind: a.kind ?? 'status', content: a.content, ...(a.subject ? { subject: a.subject } : {}),
        });
        return message;
      }
      case 'thread_read': {
        const a = ARGS.thread_read.parse(args);
        return messaging.readThread(a.thread_id, a.after_seq ?? 0, a.limit ?? 50);
      }
      case 'inbox_list': {
        const a = ARGS.inbox_list.parse(args);
        return { messages: await messaging.listInbox(sessionId, { ...(a.status ? { status: a.status } : {}), limit: 100 }) };
      }
      case 'inbox_reply': {
        const a = ARGS.inbox_reply.parse(args);
        return messaging.replyInbox(a.id, { from_agent: sessionId, payload: a.payload, ...(a.title ? { title: a.title } : {}) });
      }
      case 'handoff': {
        const a = ARGS.handoff.parse(args);
        return handoff(messaging, sessions, HandoffParams.parse({ ...a, from_session: sessionId }));
      }
    }
  };
  return {
    specs: () => MESSAGING_TOOL_SPECS,
    async execute(call): Promise<ToolResult> {
      if (!isToolName(call.name)) return { output: `unknown tool ${call.name}`, is_error: true };
      try {
        return { output: JSON.stringify(await run(call.name, call.args ?? {})), is_error: false };
      } catch (err) {
        if (err instanceof z.ZodError) {
          const issue = err.issues[0];
          return { output: `${call.name}: invalid arguments: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'bad input'}`, is_error: true };
        }
        if (isTowerError(err)) return { output: `${call.name} failed (${err.code}): ${err.message}`, is_error: true };
        return { output: `${call.name} failed`, is_error: true };
      }
    },
  };
}
