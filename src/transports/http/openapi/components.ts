import { zodToOpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import * as api from '../../../protocol/api.js';
import { ConversationMessage, ToolCallPart } from '../../../protocol/conversation.js';
import { EVENT_TYPES, StopReason } from '../../../protocol/events.js';
import { Permissions, SafetyPolicy, Session, SessionStatus } from '../../../protocol/session.js';
import { HealthBody, ReadyBody } from '../schemas.js';
import { SessionEvent, WIRE_EVENT_SCHEMAS, eventSchemaName } from './events.js';

/**
 * The shared types the document names under `components.schemas`, so generated clients get `Session`,
 * `UserMessageEvent`, `ErrorBody`… instead of anonymous inline shapes. The names are attached to the
 * protocol's own schema objects (the generator then writes a `$ref` wherever one is used), here in the
 * transport rather than in protocol/, which stays free of OpenAPI.
 *
 * Request bodies with defaulted fields (create, update, send) stay inline: generators such as
 * openapi-typescript make a defaulted property required in a component (it may be a response), but
 * optional in an inline request body, which is what a client sending it needs.
 */
const NAMED: Record<string, z.ZodType> = {
  Session,
  SessionStatus,
  Permissions,
  SafetyPolicy,
  StopReason,
  ConversationMessage,
  ToolCallPart,
  ErrorBody: api.ErrorBody,
  SessionList: api.SessionList,
  StoredMessage: api.StoredMessageSchema,
  MessageList: api.MessageList,
  Snapshot: api.SnapshotBody,
  SendMessageAccepted: api.SendMessageAccepted,
  SendResult: api.SendResult,
  ForkBody: api.ForkBody,
  StoredEvent: api.StoredEventSchema,
  SessionExport: api.SessionExport,
  BatchIdsBody: api.BatchIdsBody,
  BatchDeleteResult: api.BatchDeleteResult,
  BatchExportResult: api.BatchExportResult,
  ModelInfo: api.ModelInfoSchema,
  ModelList: api.ModelList,
  DeleteResult: api.DeleteResult,
  MessagesBody: api.MessagesBody,
  SteerAccepted: api.SteerAccepted,
  FollowupAccepted: api.FollowupAccepted,
  QueueItem: api.QueueItem,
  QueueState: api.QueueState,
  InterruptBody: api.InterruptBody,
  InterruptResult: api.InterruptResult,
  ConfirmationBody: api.ConfirmationBody,
  ElicitationBody: api.ElicitationBody,
  ResolvedResult: api.ResolvedResult,
  ToggleResult: api.ToggleResult,
  PendingConfirmation: api.PendingConfirmation,
  PendingElicitation: api.PendingElicitation,
  SessionStatusBody: api.SessionStatusBody,
  SessionModels: api.SessionModels,
  TitleBody: api.TitleBody,
  StarredBody: api.StarredBody,
  Health: HealthBody,
  Ready: ReadyBody,
  SessionEvent,
  ...Object.fromEntries(EVENT_TYPES.map((type) => [eventSchemaName(type), WIRE_EVENT_SCHEMAS[type]])),
};

let named = false;

/** Names the shared schemas (once per process: the names live on the schema objects themselves). */
export function nameSharedSchemas(): void {
  if (named) return;
  named = true;
  for (const [refId, schema] of Object.entries(NAMED)) {
    const current = zodToOpenAPIRegistry.get(schema);
    zodToOpenAPIRegistry.add(schema, { ...current, _internal: { ...current?._internal, refId } });
  }
}

export const SHARED_SCHEMA_NAMES = Object.keys(NAMED);
