import { z } from 'zod';
import { ConversationMessage } from './conversation.js';
import { EVENT_TYPES, EventPayloads, type EventType } from './events.js';
import { McpSettings } from './mcp.js';
import { MAX_JSON_DEPTH, exceedsJsonDepth } from './limits.js';
import { Permissions, RunnerPlacement, SessionSettings } from './session.js';
import { refineWellFormed, text } from './text.js';

/**
 * What `POST /api/sessions/import` accepts: an export, held to the same rules as create and PATCH
 * (title length, model, absolute working dir, valid dates) and to the shape of a log Tower writes itself
 * (seqs 1..n of this session, message indexes 0..n-1, known event types with payloads of their type
 * (`EventPayloads`), every turn closed, no
 * `session_deleted`), within the depth limit. Anything else is a 400 listing the issues.
 */
const isoDate = z.iso.datetime({ offset: true });

export const ImportedSession = z
  .object({
    id: text().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, . _ : or -'),
    title: text().max(500),
    created_at: isoDate,
    updated_at: isoDate,
    working_dir: text().min(1).regex(/^(\/|[A-Za-z]:[\\/])/, 'must be an absolute path'),
    model: text().min(1),
    permissions: Permissions,
    starred: z.boolean(),
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cost: z.number().nonnegative(),
    message_count: z.number().int().nonnegative(),
    last_event_seq: z.number().int().nonnegative(),
    /** The executor settings and placement, held to the create/PATCH schemas. */
    sandbox: SessionSettings.shape.sandbox,
    network: SessionSettings.shape.network,
    runner: RunnerPlacement.nullable().optional(),
    /** Exports carry MCP secrets redacted: an import holding the marker is refused (`core/sessions/transfer.ts`). */
    mcp: McpSettings.optional(),
  })
  .strict();

const ImportedMessage = z.object({
  index: z.number().int().nonnegative(),
  message: ConversationMessage,
  created_at: isoDate,
});

const ImportedEvent = z.object({
  session_id: z.string(),
  seq: z.number().int().positive(),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  data: z.record(z.string(), z.unknown()),
  timestamp: isoDate,
});

export const SessionImportBody = z
  .object({
    version: z.literal(1),
    session: ImportedSession,
    messages: z.array(ImportedMessage),
    events: z.array(ImportedEvent),
  })
  .superRefine((data, ctx) => {
    const issue = (message: string, at: Array<string | number>): void => {
      ctx.addIssue({ code: 'custom', message, path: at });
    };
    if (exceedsJsonDepth(data, MAX_JSON_DEPTH)) issue(`nested deeper than ${MAX_JSON_DEPTH} levels`, []);
    refineWellFormed(data, ctx);
    data.messages.forEach((m, i) => {
      if (m.index !== i) issue(`message at position ${i} has index ${m.index}; indexes must be 0..n-1`, ['messages', i, 'index']);
    });
    let open = false;
    data.events.forEach((e, i) => {
      const at = ['events', i];
      if (e.seq !== i + 1) issue(`event at position ${i} has seq ${e.seq}; seqs must be 1..n without gaps`, [...at, 'seq']);
      if (e.session_id !== data.session.id) issue('event belongs to another session', [...at, 'session_id']);
      if (e.type === 'session_deleted') issue('a deleted session cannot be imported', [...at, 'type']);
      const payload = EventPayloads[e.type].safeParse(e.data);
      if (!payload.success) {
        const first = payload.error.issues[0];
        issue(`${e.type} data does not match its schema: ${first?.message ?? 'invalid'}`, [...at, 'data', ...(first?.path ?? []).map(String)]);
      }
      if (e.type === 'stream_started') {
        if (open) issue('a turn starts before the previous one stopped', [...at, 'type']);
        open = true;
      } else if (e.type === 'stream_stopped') {
        if (!open) issue('stream_stopped without a running turn', [...at, 'type']);
        open = false;
      }
    });
    if (open) issue('the last turn has no stream_stopped', ['events']);
  });
export type SessionImportBody = z.infer<typeof SessionImportBody>;
