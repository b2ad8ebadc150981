import { z } from 'zod';
import { ConversationMessage } from './conversation.js';
import { EVENT_TYPES, type EventType } from './events.js';
import { PermissionsPatch, RunnerPlacement, Session, SessionSettings } from './session.js';
import { refineWellFormed, text } from './text.js';

export { SessionImportBody } from './import.js';

/** Request and response bodies of the HTTP API, shared by the server (validation, OpenAPI) and the SDK. */

export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const CreateSessionBody = z
  .object({
    title: text().max(500).optional(),
    working_dir: text().min(1).optional(),
    model: text().min(1).optional(),
    permissions: PermissionsPatch.superRefine(refineWellFormed).optional(),
    ...SessionSettings.shape,
    runner: RunnerPlacement.nullable().optional(),
  })
  .strict();
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

export const UpdateSessionBody = z
  .object({
    title: text().min(1).max(500).optional(),
    starred: z.boolean().optional(),
    model: text().min(1).optional(),
    permissions: PermissionsPatch.superRefine(refineWellFormed).optional(),
    ...SessionSettings.shape,
    /** null: tools run on the server again. */
    runner: RunnerPlacement.nullable().optional(),
  })
  .strict();
export type UpdateSessionBody = z.infer<typeof UpdateSessionBody>;

export const SessionList = z.object({ items: z.array(Session), next_cursor: z.string().optional() });
export type SessionList = z.infer<typeof SessionList>;

export const ListSessionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});

export const StoredMessageSchema = z.object({
  index: z.number().int().nonnegative(),
  message: ConversationMessage,
  created_at: z.string(),
});

export const MessageList = z.object({ messages: z.array(StoredMessageSchema) });
export type MessageList = z.infer<typeof MessageList>;

export const SnapshotBody = z.object({
  session: Session,
  messages: z.array(StoredMessageSchema),
  streaming: z.boolean(),
  last_event_seq: z.number().int().nonnegative(),
});
export type SnapshotBody = z.infer<typeof SnapshotBody>;

export const SendMessageBody = z
  .object({
    content: text().min(1).max(512 * 1024),
    /** What to do while a turn runs: refuse (409 session_busy), queue as a follow-up, or interrupt it. */
    on_busy: z.enum(['reject', 'enqueue', 'interrupt']).default('reject'),
  })
  .strict();
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const SendMessageAccepted = z.object({
  /** Seq of the `user_message` event this call appended: tail events from `seq - 1` to see the turn. */
  seq: z.number().int().positive(),
  turn_id: z.string(),
});
export type SendMessageAccepted = z.infer<typeof SendMessageAccepted>;

/** What `SinceParam` accepts: up to 15 decimal digits. */
export const SINCE_DIGITS = /^\d{1,15}$/;

/** `since` for event streams: a non-negative integer. */
export const SinceParam = z.string().regex(SINCE_DIGITS, 'must be a non-negative integer').transform(Number);

export const ForkBody = z.object({ message_index: z.number().int().nonnegative() }).strict();
export type ForkBody = z.infer<typeof ForkBody>;

export const StoredEventSchema = z.object({
  session_id: z.string(),
  seq: z.number().int().positive(),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  data: z.record(z.string(), z.unknown()),
  timestamp: z.string(),
});

export const SessionExport = z.object({
  version: z.literal(1),
  session: Session.omit({ status: true }),
  messages: z.array(StoredMessageSchema),
  events: z.array(StoredEventSchema),
});
export type SessionExport = z.infer<typeof SessionExport>;

export const BatchIdsBody = z.object({ ids: z.array(text().min(1)).min(1).max(500) }).strict();
export type BatchIdsBody = z.infer<typeof BatchIdsBody>;

export const BatchDeleteResult = z.object({ deleted: z.number().int(), failed: z.array(z.string()) });
export type BatchDeleteResult = z.infer<typeof BatchDeleteResult>;

export const BatchExportResult = z.object({ sessions: z.array(SessionExport), missing: z.array(z.string()) });
export type BatchExportResult = z.infer<typeof BatchExportResult>;

export const ModelInfoSchema = z.object({
  id: z.string(),
  provider: z.string(),
  name: z.string(),
  pricing: z
    .object({ input: z.number(), output: z.number(), cached_input: z.number().optional() })
    .optional(),
  context_window: z.number().int().optional(),
});

export const ModelList = z.object({ models: z.array(ModelInfoSchema), default: z.string() });
export type ModelList = z.infer<typeof ModelList>;

export const DeleteResult = z.object({ deleted: z.literal(true) });

// ── Control of a running session ─────────────────────────────────────────────────────────────────

export const OnBusy = z.enum(['reject', 'enqueue', 'interrupt']);
export type OnBusy = z.infer<typeof OnBusy>;

/**
 * One message of a steer or follow-up. `role` is optional and may only be `user` (cagent's clients send
 * it); any other role is refused with a message that says so.
 */
export const QueuedMessageBody = z
  .object({
    content: text().min(1).max(512 * 1024),
    role: z.literal('user', { error: 'only role "user" is accepted: steered and follow-up messages are user messages' }).optional(),
  })
  .strict();

export const MessagesBody = z.object({ messages: z.array(QueuedMessageBody).min(1).max(20) }).strict();
export type MessagesBody = z.infer<typeof MessagesBody>;

export const SteerAccepted = z.object({
  /** Item ids in the steer queue, in the order they will be injected. */
  item_ids: z.array(z.string()),
  depth: z.number().int().nonnegative(),
});
export type SteerAccepted = z.infer<typeof SteerAccepted>;

export const FollowupStatus = z.enum(['queued_streaming', 'queued_idle', 'duplicate']);
export const FollowupAccepted = z.object({
  status: FollowupStatus,
  item_ids: z.array(z.string()),
  depth: z.number().int().nonnegative(),
});
export type FollowupAccepted = z.infer<typeof FollowupAccepted>;

/** Answer to a send: a started turn, or (with `on_busy: enqueue` while busy) a queued follow-up. */
export const SendResult = z.union([SendMessageAccepted, FollowupAccepted]);
export type SendResult = z.infer<typeof SendResult>;

export const QueueItem = z.object({ item_id: z.string(), content: z.string(), queued_at: z.string() });
export type QueueItem = z.infer<typeof QueueItem>;

export const QueueState = z.object({
  steer: z.object({ depth: z.number().int(), capacity: z.number().int(), items: z.array(QueueItem) }),
  followup: z.object({ depth: z.number().int(), capacity: z.number().int(), items: z.array(QueueItem) }),
});
export type QueueState = z.infer<typeof QueueState>;

export const InterruptBody = z.object({ clear_queue: z.boolean().optional() }).strict();
export const InterruptResult = z.object({
  /** False when no turn was running (a no-op, not an error). */
  interrupted: z.boolean(),
  turn_id: z.string().optional(),
});
export type InterruptResult = z.infer<typeof InterruptResult>;

export const ConfirmationBody = z
  .object({
    decision: z.enum(['approve', 'approve_tool', 'approve_session', 'reject']),
    reason: text().max(4000).optional(),
  })
  .strict();
export type ConfirmationBody = z.infer<typeof ConfirmationBody>;

export const ElicitationBody = z
  .object({
    action: z.enum(['accept', 'decline', 'cancel']),
    content: z.record(z.string(), z.unknown()).superRefine(refineWellFormed).optional(),
  })
  .strict();
export type ElicitationBody = z.infer<typeof ElicitationBody>;

export const ResolvedResult = z.object({ resolved: z.literal(true) });

export const ToggleResult = z.object({ auto_approve: z.boolean() });

export const PendingConfirmation = z.object({
  tool_call_id: z.string(),
  tool: z.string(),
  args: z.unknown(),
  requested_at: z.string(),
});
export const PendingElicitation = z.object({
  elicitation_id: z.string(),
  message: z.string(),
  schema: z.record(z.string(), z.unknown()).optional(),
  requested_at: z.string(),
});

export const SessionStatusBody = z.object({
  session_id: z.string(),
  status: z.enum(['idle', 'running']),
  turn_id: z.string().optional(),
  model: z.string(),
  last_event_seq: z.number().int().nonnegative(),
  pending_confirmations: z.array(PendingConfirmation),
  pending_elicitations: z.array(PendingElicitation),
  queue: z.object({ steer: z.number().int(), followup: z.number().int() }),
});
export type SessionStatusBody = z.infer<typeof SessionStatusBody>;

/** `?wait=10s` (also `500ms`, `2m`, or plain seconds), at most 60 s. */
export const WaitParam = z
  .string()
  .regex(/^\d{1,6}(ms|s|m)?$/, 'must be a duration like 10s, 500ms or 1m')
  .transform((v) => {
    const n = Number.parseInt(v, 10);
    return v.endsWith('ms') ? n : v.endsWith('m') ? n * 60_000 : n * 1000;
  })
  .refine((ms) => ms <= 60_000, 'must be at most 60s');

export const SessionModels = z.object({
  current: z.string(),
  models: z.array(ModelInfoSchema.extend({ current: z.boolean() })),
});
export type SessionModels = z.infer<typeof SessionModels>;

export const TitleBody = z.object({ title: text().min(1).max(500) }).strict();
export const StarredBody = z.object({ starred: z.boolean() }).strict();
