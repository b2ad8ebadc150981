import { z } from 'zod';
import { Permissions, RunnerPlacement, SandboxMode } from './session.js';
import { McpSettings } from './mcp.js';

/**
 * Session events: every observable change of a session. Names follow cagent's session server
 * (seed 003) where it has one. Each event on the wire carries `seq`, `session_id` and `timestamp`
 * beside its own fields; in the store the own fields are the `data` column.
 */

export const StopReason = z.enum([
  'normal',
  'max_iterations',
  'error',
  'canceled',
  'server_restart',
]);
export type StopReason = z.infer<typeof StopReason>;

export const QueueName = z.enum(['steer', 'followup']);
export type QueueName = z.infer<typeof QueueName>;

export const ConfirmationDecision = z.enum(['approve', 'approve_tool', 'approve_session', 'reject']);
export type ConfirmationDecision = z.infer<typeof ConfirmationDecision>;

export const ElicitationAction = z.enum(['accept', 'decline', 'cancel']);
export type ElicitationAction = z.infer<typeof ElicitationAction>;

/** The remote runner a tool call ran on (absent: on the server). */
const RunnerRef = z.object({ id: z.string(), name: z.string() });

const ToolCallFields = {
  tool_call_id: z.string(),
  tool: z.string(),
};

/** Event payloads keyed by type: the single source of truth for what each event carries. */
export const EventPayloads = {
  session_created: z.object({ title: z.string(), model: z.string(), working_dir: z.string() }),
  user_message: z.object({
    content: z.string(),
    /** Index of this message in the conversation (what `fork` takes). */
    message_index: z.number().int().nonnegative(),
    /** True when the message was injected into a running turn by a steer. */
    steered: z.boolean().optional(),
    /** The queue item this message was delivered from (steer or follow-up), if any. */
    queue_item_id: z.string().optional(),
  }),
  stream_started: z.object({ turn_id: z.string(), model: z.string() }),
  agent_choice: z.object({ content: z.string() }),
  agent_choice_reasoning: z.object({ content: z.string() }),
  /** `runner`: the runner the call was placed on when the model asked for it (it runs there while online). */
  tool_call: z.object({ ...ToolCallFields, args: z.unknown(), runner: RunnerRef.optional() }),
  tool_call_output: z.object({
    tool_call_id: z.string(),
    stream: z.enum(['stdout', 'stderr']),
    data: z.string(),
  }),
  tool_call_response: z.object({ ...ToolCallFields, result: z.string(), is_error: z.boolean(), runner: RunnerRef.optional() }),
  token_usage: z.object({
    model: z.string(),
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cached_input_tokens: z.number().int().nonnegative(),
    cost: z.number().nonnegative(),
    /** Session totals after this step. */
    total_input_tokens: z.number().int().nonnegative(),
    total_output_tokens: z.number().int().nonnegative(),
    total_cost: z.number().nonnegative(),
  }),
  session_title: z.object({ title: z.string() }),
  error: z.object({ code: z.string(), message: z.string() }),
  stream_stopped: z.object({ turn_id: z.string(), reason: StopReason }),
  session_updated: z.object({
    title: z.string().optional(),
    starred: z.boolean().optional(),
    model: z.string().optional(),
    sandbox: SandboxMode.optional(),
    network: z.boolean().optional(),
    /** The session's MCP servers from the next turn on. */
    mcp: McpSettings.optional(),
    /** Where the session's tools run from now on (null: on the server). */
    runner: RunnerPlacement.nullable().optional(),
  }),
  message_queued: z.object({
    queue: QueueName,
    item_id: z.string(),
    content: z.string(),
    /** Items waiting in that queue after this one was added. */
    depth: z.number().int().nonnegative(),
  }),
  queue_cleared: z.object({ queue: QueueName, item_ids: z.array(z.string()) }),
  tool_call_confirmation: z.object({ ...ToolCallFields, args: z.unknown() }),
  tool_call_confirmed: z.object({
    tool_call_id: z.string(),
    decision: ConfirmationDecision,
    reason: z.string().optional(),
  }),
  elicitation_request: z.object({
    elicitation_id: z.string(),
    message: z.string(),
    schema: z.record(z.string(), z.unknown()).optional(),
  }),
  elicitation_resolved: z.object({ elicitation_id: z.string(), action: ElicitationAction }),
  model_changed: z.object({ model: z.string(), previous: z.string() }),
  permissions_changed: z.object({ permissions: Permissions }),
  session_forked: z.object({ from_session_id: z.string(), message_index: z.number().int().nonnegative() }),
  session_deleted: z.object({}),
} as const;

export type EventType = keyof typeof EventPayloads;
export const EVENT_TYPES = Object.keys(EventPayloads) as EventType[];

export type EventPayload<T extends EventType> = z.infer<(typeof EventPayloads)[T]>;

/** An event about to be appended: its type and payload, no seq yet. */
export type NewEvent = {
  [T in EventType]: { type: T; data: EventPayload<T> };
}[EventType];

/** The envelope of a stored event: seq is per session, gap-free, from 1. */
export interface StoredEventBase {
  session_id: string;
  seq: number;
  /** ISO 8601, UTC. */
  timestamp: string;
}

/** A stored event of one type, with its payload typed. */
export type StoredEventOf<T extends EventType> = StoredEventBase & { type: T; data: EventPayload<T> };

/**
 * An event as stored and delivered, discriminated by `type`: `switch (event.type)` narrows `data` to that
 * type's payload, so code that translates events (transports, topic mappers, renderers) is type-checked
 * per payload. Events are appended as `NewEvent`, so a stored payload matches its type; stores read rows
 * back as written (`storedEventOf` is their one place that says so).
 */
export type StoredEvent = { [T in EventType]: StoredEventOf<T> }[EventType];

/** The same type as `StoredEvent` (from before `StoredEvent` itself was discriminated). */
export type TypedStoredEvent = StoredEvent;

/** The event itself: `StoredEvent` is typed by `type` already (kept for callers written before). */
export function typedEvent(event: StoredEvent): StoredEvent {
  return event;
}

/** True when `event` is of `type`, narrowing it (and its `data`) to that type. */
export function isEventOf<T extends EventType>(event: StoredEvent, type: T): event is Extract<StoredEvent, { type: T }> {
  return event.type === type;
}

/**
 * A stored event from its columns as a store (or a bus message) holds them. The one cast from a row to
 * a typed event, which is sound because every row was written from a `NewEvent` of its type (appends
 * are typed, imports are checked with `EventPayloads`). One object literal, so V8 keeps one shape.
 */
export function storedEventOf(sessionId: string, seq: number, type: EventType, data: unknown, timestamp: string): StoredEvent {
  return { session_id: sessionId, seq, type, data, timestamp } as StoredEvent;
}

/** The wire form of an event: envelope fields and payload fields side by side. */
export type WireEvent = {
  [T in EventType]: { type: T; seq: number; session_id: string; timestamp: string } & EventPayload<T>;
}[EventType];

export function toWire(event: StoredEvent): WireEvent {
  // Object.assign, not a spread plus properties: on Node 20 that literal shape takes V8's slow path
  // (~35x slower), and this runs for every event on every replay.
  return Object.assign({}, event.data, {
    type: event.type,
    seq: event.seq,
    session_id: event.session_id,
    timestamp: event.timestamp,
  }) as WireEvent;
}

export const EventEnvelope = z.object({
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  seq: z.number().int().positive(),
  session_id: z.string(),
  timestamp: z.string(),
});

/** Parses a wire event (as received by a client), checking the envelope and the payload of its type. */
export function parseWireEvent(value: unknown): WireEvent {
  const envelope = EventEnvelope.parse(value);
  const payload = EventPayloads[envelope.type].parse(value);
  return { ...payload, ...envelope } as WireEvent;
}
