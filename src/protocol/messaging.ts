import { z } from 'zod';

/**
 * Agent messaging (seed 001): threads whose messages carry a per-thread `message_seq`, and inboxes of
 * asynchronous messages between agents and people. Names and enums follow the seed.
 */

export const ThreadStatus = z.enum(['active', 'paused', 'resolved', 'archived']);
export type ThreadStatus = z.infer<typeof ThreadStatus>;

export const PartyType = z.enum(['human', 'agent', 'broadcast']);
export type PartyType = z.infer<typeof PartyType>;

export const MessageKind = z.enum(['directive', 'question', 'proposal', 'status', 'result']);
export type MessageKind = z.infer<typeof MessageKind>;

export const InboxMessageType = z.enum([
  'notification',
  'request',
  'response',
  'completion',
  'handoff',
  'info',
  'approval_request',
  'feedback',
]);
export type InboxMessageType = z.infer<typeof InboxMessageType>;

export const InboxStatus = z.enum(['unread', 'read', 'archived']);
export type InboxStatus = z.infer<typeof InboxStatus>;

const Id = z.string().min(1).max(200);
const Text = (max: number) => z.string().max(max);

export const Thread = z.object({
  id: z.string(),
  title: z.string(),
  status: ThreadStatus,
  last_seq: z.number().int().nonnegative(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Thread = z.infer<typeof Thread>;

export const ThreadMessage = z.object({
  id: z.string(),
  thread_id: z.string(),
  message_seq: z.number().int().positive(),
  created_at: z.string(),
  from_type: PartyType,
  from_id: z.string(),
  to_type: PartyType,
  to_id: z.string(),
  kind: MessageKind,
  subject: z.string().optional(),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type ThreadMessage = z.infer<typeof ThreadMessage>;

export const InboxMessage = z.object({
  id: z.string(),
  message_id: z.string(),
  correlation_id: z.string().optional(),
  from_agent: z.string(),
  to_inbox: z.string(),
  message_type: InboxMessageType,
  title: z.string(),
  payload: z.string().optional(),
  status: InboxStatus,
  created_at: z.string(),
  updated_at: z.string(),
});
export type InboxMessage = z.infer<typeof InboxMessage>;

/** What a caller gives to create a thread. */
export const NewThread = z
  .object({ id: Id.optional(), title: Text(500).default(''), status: ThreadStatus.optional() })
  .strict();
export type NewThread = z.input<typeof NewThread>;

/** What a caller gives to post into a thread (`message_seq` is the store's). */
export const NewThreadMessage = z
  .object({
    from_type: PartyType.default('human'),
    from_id: Id.default('human'),
    to_type: PartyType.default('broadcast'),
    to_id: Text(200).default(''),
    kind: MessageKind.default('status'),
    subject: Text(500).optional(),
    content: z.string().min(1).max(100_000),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type NewThreadMessage = z.output<typeof NewThreadMessage>;

export const NewInboxMessage = z
  .object({
    message_id: Id.optional(),
    correlation_id: Id.optional(),
    from_agent: Id,
    to_inbox: Id,
    message_type: InboxMessageType.default('info'),
    title: Text(500).default(''),
    payload: z.string().max(100_000).optional(),
  })
  .strict();
export type NewInboxMessage = z.output<typeof NewInboxMessage>;

/** What an acknowledgement is about: a thread's messages or a session's events. */
export const AckTarget = z.union([
  z.object({ thread_id: Id }).strict(),
  z.object({ session_id: Id }).strict(),
]);
export type AckTarget = { thread_id: string } | { session_id: string };

/** One change to messaging data, in commit order, whoever wrote it (Tower or another process). */
export type MessagingChange =
  | { id: number; kind: 'thread_message'; thread_id: string; message_seq: number }
  | { id: number; kind: 'thread_state'; thread_id: string }
  | { id: number; kind: 'inbox_message'; inbox_message_id: string };

// ---- command params and results (the command layer's messaging vocabulary) ----

export const ThreadList = z.object({ threads: z.array(Thread) });
export const ThreadMessagesPage = z.object({
  thread: Thread,
  messages: z.array(ThreadMessage),
  has_more: z.boolean(),
});
export const PostResult = z.object({ message: ThreadMessage, thread: Thread });
export const InboxList = z.object({ messages: z.array(InboxMessage) });

export const ThreadIdParam = z.object({ thread_id: Id }).strict();
export const ListThreadsParams = z
  .object({ status: ThreadStatus.optional(), limit: z.number().int().min(1).max(500).default(100) })
  .strict();
export const ReadThreadParams = z
  .object({
    thread_id: Id,
    after_seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict();
export const PostThreadParams = NewThreadMessage.extend({ thread_id: Id }).strict();
export const ThreadStatusParams = z.object({ thread_id: Id, status: ThreadStatus }).strict();
export const ListInboxParams = z
  .object({
    inbox: Id,
    status: InboxStatus.optional(),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict();
export const InboxSendParams = NewInboxMessage;
/** `inbox`, when given, must be the message's inbox (HTTP paths name it). */
export const InboxMessageParam = z.object({ id: Id, inbox: Id.optional() }).strict();
export const InboxReplyParams = z
  .object({ id: Id, inbox: Id.optional(), from_agent: Id.default('human'), title: Text(500).optional(), payload: z.string().min(1).max(100_000) })
  .strict();
export const InboxStatusParams = z.object({ id: Id, inbox: Id.optional(), status: InboxStatus }).strict();

export const HandoffParams = z
  .object({
    from_session: Id,
    to_session: Id.optional(),
    new_session: z
      .object({ title: Text(500).optional(), working_dir: z.string().min(1).optional(), model: z.string().min(1).optional() })
      .strict()
      .optional(),
    content: z.string().min(1).max(100_000),
    title: Text(500).optional(),
  })
  .strict()
  .refine((p) => (p.to_session === undefined) !== (p.new_session === undefined), {
    message: 'give exactly one of to_session or new_session',
  });
export const HandoffResult = z.object({
  correlation_id: z.string(),
  session_id: z.string(),
  /** `started`: a turn began now; `queued`: it waits as a follow-up of the running turn. */
  delivery: z.enum(['started', 'queued']),
  inbox_message: InboxMessage,
});
export type HandoffResult = z.infer<typeof HandoffResult>;
