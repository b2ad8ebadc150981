import { z } from 'zod';
import {
  BatchDeleteResult,
  BatchExportResult,
  BatchIdsBody,
  ConfirmationBody,
  CreateSessionBody,
  DeleteResult,
  ElicitationBody,
  FollowupAccepted,
  InterruptResult,
  MessageList,
  MessagesBody,
  ModelList,
  QueueState,
  ResolvedResult,
  SendMessageBody,
  SendResult,
  SessionExport,
  SessionImportBody,
  SessionList,
  SessionModels,
  SessionStatusBody,
  SnapshotBody,
  SteerAccepted,
  ToggleResult,
  UpdateSessionBody,
} from './api.js';
import { Session } from './session.js';
import {
  HandoffParams,
  HandoffResult,
  InboxList,
  InboxMessage,
  InboxMessageParam,
  InboxReplyParams,
  InboxSendParams,
  InboxStatusParams,
  ListInboxParams,
  ListThreadsParams,
  NewThread,
  PostResult,
  PostThreadParams,
  ReadThreadParams,
  Thread,
  ThreadList,
  ThreadMessagesPage,
  ThreadStatusParams,
} from './messaging.js';
import { TelemetryList } from './telemetry.js';
import { CreateRunnerTokenBody, CreatedRunnerToken, RevokedRunnerToken, RunnerList, RunnerTokenList, RunnerView } from './runner-api.js';

/**
 * The command layer's vocabulary: every operation a client can ask of Tower, by name, with the schema of
 * its params and of its result. HTTP routes, hub `command` frames, bus JSON-RPC methods and MCP tools are
 * adapters that turn their wire shape into `(name, params)` and hand it to core's `CommandService`, so a
 * command is validated the same way and fails with the same error code whichever way it arrived.
 */

const SessionId = z.string().min(1).max(200);
const target = { session_id: SessionId };
const onSession = z.object(target).strict();

export const COMMANDS = {
  'sessions.create': { params: CreateSessionBody, result: Session },
  'sessions.list': {
    params: z
      .object({ limit: z.number().int().min(1).max(200).default(50), cursor: z.string().optional() })
      .strict(),
    result: SessionList,
  },
  'sessions.get': { params: onSession, result: Session },
  'sessions.update': { params: UpdateSessionBody.extend(target).strict(), result: Session },
  'sessions.delete': { params: onSession, result: DeleteResult },
  'sessions.batch_delete': { params: BatchIdsBody, result: BatchDeleteResult },
  'sessions.batch_export': { params: BatchIdsBody, result: BatchExportResult },
  'sessions.snapshot': { params: onSession, result: SnapshotBody },
  /** `after_index`: only the messages past that conversation index (a reader that has the rest). */
  'sessions.messages': { params: onSession.extend({ after_index: z.number().int().min(-1).optional() }).strict(), result: MessageList },
  'sessions.export': { params: onSession, result: SessionExport },
  /** `as_new` gives the imported session a fresh id (importing an export back onto its own server). */
  'sessions.import': { params: z.object({ data: SessionImportBody, as_new: z.boolean().optional() }).strict(), result: Session },
  'sessions.fork': {
    params: z.object({ ...target, message_index: z.number().int().nonnegative() }).strict(),
    result: Session,
  },
  'sessions.send': { params: SendMessageBody.extend(target).strict(), result: SendResult },
  'sessions.steer': { params: MessagesBody.extend(target).strict(), result: SteerAccepted },
  'sessions.follow_up': {
    params: MessagesBody.extend({ ...target, idempotency_key: z.string().min(1).max(200).optional() }).strict(),
    result: FollowupAccepted,
  },
  'sessions.interrupt': {
    params: z.object({ ...target, clear_queue: z.boolean().optional() }).strict(),
    result: InterruptResult,
  },
  'sessions.queue': { params: onSession, result: QueueState },
  'sessions.status': {
    params: z.object({ ...target, wait_ms: z.number().int().min(0).max(60_000).optional() }).strict(),
    result: SessionStatusBody,
  },
  'sessions.set_model': { params: z.object({ ...target, model: z.string().min(1) }).strict(), result: Session },
  'sessions.models': { params: onSession, result: SessionModels },
  'sessions.toggle_auto_approve': { params: onSession, result: ToggleResult },
  'confirmations.answer': {
    params: ConfirmationBody.extend({ ...target, tool_call_id: z.string().min(1).max(200) }).strict(),
    result: ResolvedResult,
  },
  'elicitations.answer': {
    params: ElicitationBody.extend({ ...target, elicitation_id: z.string().min(1).max(200) }).strict(),
    result: ResolvedResult,
  },
  'models.list': { params: z.object({}).strict(), result: ModelList },
  // Messaging between agents and people (seed 001).
  'threads.list': { params: ListThreadsParams, result: ThreadList },
  'threads.create': { params: NewThread, result: Thread },
  'threads.read': { params: ReadThreadParams, result: ThreadMessagesPage },
  'threads.post': { params: PostThreadParams, result: PostResult },
  'threads.set_status': { params: ThreadStatusParams, result: Thread },
  'inbox.list': { params: ListInboxParams, result: InboxList },
  'inbox.send': { params: InboxSendParams, result: InboxMessage },
  'inbox.read': { params: InboxMessageParam, result: InboxMessage },
  'inbox.reply': { params: InboxReplyParams, result: InboxMessage },
  'inbox.set_status': { params: InboxStatusParams, result: InboxMessage },
  'messaging.handoff': { params: HandoffParams, result: HandoffResult },
  'telemetry.get': { params: z.object({}).strict(), result: TelemetryList },
  // Remote runners (seed 004's control plane).
  'runners.tokens.create': { params: CreateRunnerTokenBody, result: CreatedRunnerToken },
  'runners.tokens.list': { params: z.object({}).strict(), result: RunnerTokenList },
  'runners.tokens.revoke': { params: z.object({ token_id: z.string().min(1).max(200) }).strict(), result: RevokedRunnerToken },
  'runners.list': { params: z.object({}).strict(), result: RunnerList },
  'runners.get': { params: z.object({ runner_id: z.string().min(1).max(200) }).strict(), result: RunnerView },
} as const satisfies Record<string, { params: z.ZodType; result: z.ZodType }>;

export type CommandName = keyof typeof COMMANDS;
/** What a caller passes (defaults not yet applied). */
export type CommandParams<N extends CommandName> = z.input<(typeof COMMANDS)[N]['params']>;
/** What the service works with, after validation. */
export type ParsedCommandParams<N extends CommandName> = z.output<(typeof COMMANDS)[N]['params']>;
export type CommandResult<N extends CommandName> = z.output<(typeof COMMANDS)[N]['result']>;

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && Object.hasOwn(COMMANDS, value);
}
