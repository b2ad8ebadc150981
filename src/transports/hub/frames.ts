import { z } from 'zod';
import { isRecord } from '../../protocol/guards.js';

/**
 * Hub frames: `{type, timestamp (unix ms), data}` as in seed 001. Inbound frames are parsed here and
 * nowhere else; every failure has one of the seed's error codes (plus Tower's own four).
 */

export const HUB_ERROR_CODES = [
  'PARSE_ERROR',
  'UNKNOWN_EVENT',
  'INVALID_SUBSCRIBE',
  'SUBSCRIBE_FAILED',
  'FETCH_FAILED',
  'BATCH_FAILED',
  'INVALID_ACK',
  'ACK_FAILED',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'FRAME_TOO_LARGE',
  'INVALID_COMMAND',
] as const;
export type HubErrorCode = (typeof HUB_ERROR_CODES)[number];

/** `sessions`: list-row changes of every session (session_change); `threads`: thread_state of every thread. */
export const TOPICS = ['telemetry', 'task_stream', 'inbox_message', 'runner', 'sessions', 'threads'] as const;
export type Topic = (typeof TOPICS)[number];

const Id = z.string().min(1).max(200);
const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const ClientId = z.string().regex(/^[A-Za-z0-9._:@-]{1,200}$/, 'client_id: 1-200 of A-Z a-z 0-9 . _ : @ -');

/**
 * `inbox` / `inboxes` narrow `inbox_message` to the messages whose `to_inbox` is one of them (the
 * seed's InboxMessageEvent field); without either the topic carries every inbox. A later subscribe
 * replaces the filter.
 */
export const SubscribeData = z.union([
  z.object({ thread_id: Id, from_seq: Seq.optional() }).strict(),
  z.object({ session_id: Id, from_seq: Seq.optional() }).strict(),
  z
    .object({ topics: z.array(z.enum(TOPICS)).min(1).max(TOPICS.length), inbox: Id.optional(), inboxes: z.array(Id).min(1).max(100).optional() })
    .strict()
    .refine((d) => (d.inbox === undefined && d.inboxes === undefined) || d.topics.includes('inbox_message'), {
      message: 'inbox filters need the inbox_message topic',
      path: ['inbox'],
    }),
]);
export type SubscribeData = z.infer<typeof SubscribeData>;

export const UnsubscribeData = z.union([
  z.object({ thread_id: Id }).strict(),
  z.object({ session_id: Id }).strict(),
  z.object({ topics: z.array(z.enum(TOPICS)).min(1).max(TOPICS.length) }).strict(),
]);
export const AckData = z.union([
  z.object({ thread_id: Id, ack_seq: Seq }).strict(),
  z.object({ session_id: Id, ack_seq: Seq }).strict(),
]);
export type AckData = z.infer<typeof AckData>;
export const AuthData = z.object({ token: z.string().max(1000).optional(), client_id: ClientId.optional() }).strict();
export const CommandData = z
  .object({ request_id: z.string().min(1).max(200), op: z.string().min(1).max(100) })
  .passthrough();
export type CommandData = z.infer<typeof CommandData>;

const Envelope = z.object({ type: z.string().min(1).max(50), timestamp: z.number().optional(), data: z.unknown().optional() });

export type Inbound =
  | { type: 'subscribe'; data: SubscribeData }
  | { type: 'unsubscribe'; data: z.infer<typeof UnsubscribeData> }
  | { type: 'ack'; data: AckData }
  | { type: 'auth'; data: z.infer<typeof AuthData> }
  | { type: 'command'; data: CommandData }
  | { type: 'ping' }
  | { type: 'pong' };

export type ParseFailure = { error: HubErrorCode; message: string; request_id?: string };

const CODE_OF: Record<string, HubErrorCode> = {
  subscribe: 'INVALID_SUBSCRIBE',
  unsubscribe: 'INVALID_SUBSCRIBE',
  ack: 'INVALID_ACK',
  auth: 'UNAUTHORIZED',
  command: 'INVALID_COMMAND',
};

const SCHEMA_OF: Record<string, z.ZodType> = {
  subscribe: SubscribeData,
  unsubscribe: UnsubscribeData,
  ack: AckData,
  auth: AuthData,
  command: CommandData,
};

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid data';
  if (issue.code === 'invalid_union') {
    const first = issue.errors[0]?.[0];
    if (first) return `${first.path.join('.') || 'data'}: ${first.message}`;
  }
  return `${issue.path.join('.') || 'data'}: ${issue.message}`;
}

/** Parses one text frame. Never throws: junk becomes a failure with the code the seed uses for it. */
export function parseInbound(text: string): Inbound | ParseFailure {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'PARSE_ERROR', message: 'frame is not JSON' };
  }
  const env = Envelope.safeParse(raw);
  if (!env.success) return { error: 'PARSE_ERROR', message: 'frame must be an object {type, timestamp, data}' };
  const { type, data } = env.data;
  if (type === 'ping' || type === 'pong') return { type };
  const schema = SCHEMA_OF[type];
  if (!schema) return { error: 'UNKNOWN_EVENT', message: `unknown frame type "${type.slice(0, 50)}"` };
  const parsed = schema.safeParse(data ?? {});
  if (!parsed.success) {
    const requestId = type === 'command' && isRecord(data) && typeof data.request_id === 'string' ? data.request_id : undefined;
    return { error: CODE_OF[type] ?? 'PARSE_ERROR', message: describe(parsed.error), ...(requestId ? { request_id: requestId } : {}) };
  }
  return { type, data: parsed.data } as Inbound;
}

export const isFailure = (v: Inbound | ParseFailure): v is ParseFailure => 'error' in v;

/** Serializes an outbound frame. */
export function frame(type: string, data?: unknown): string {
  return data === undefined ? `{"type":"${type}","timestamp":${Date.now()}}` : `{"type":"${type}","timestamp":${Date.now()},"data":${JSON.stringify(data)}}`;
}

export const errorFrame = (code: HubErrorCode, message: string, extra: Record<string, unknown> = {}): string =>
  frame('error', { code, message, ...extra });
