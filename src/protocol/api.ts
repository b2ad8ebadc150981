import { z } from 'zod';
import { ConversationMessage } from './conversation.js';
import { EVENT_TYPES, type EventType } from './events.js';
import { Permissions, Session } from './session.js';

/** Request and response bodies of the HTTP API, shared by the server (validation, OpenAPI) and the SDK. */

export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const CreateSessionBody = z
  .object({
    title: z.string().max(500).optional(),
    working_dir: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    permissions: Permissions.partial().optional(),
  })
  .strict();
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

export const UpdateSessionBody = z
  .object({
    title: z.string().min(1).max(500).optional(),
    starred: z.boolean().optional(),
    model: z.string().min(1).optional(),
    permissions: Permissions.partial().optional(),
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
    content: z.string().min(1).max(512 * 1024),
  })
  .strict();
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const SendMessageAccepted = z.object({
  /** Seq of the `user_message` event this call appended: tail events from `seq - 1` to see the turn. */
  seq: z.number().int().positive(),
  turn_id: z.string(),
});
export type SendMessageAccepted = z.infer<typeof SendMessageAccepted>;

/** `since` for event streams: a non-negative integer. */
export const SinceParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);

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

export const BatchIdsBody = z.object({ ids: z.array(z.string().min(1)).min(1).max(500) }).strict();
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
