import { z } from 'zod';

/**
 * Pando's instance bus (seeds 000 and 002, PROTOCOLS.md section 1): JSON-RPC 2.0 over a ZeroMQ ROUTER,
 * events on a PUB socket as one frame `topic\0json`. Shared by Tower's bus server and the remote SDK, so
 * both read and write the same shapes. Field names are Pando's (snake_case payloads, camelCase envelope).
 */

export const PANDO_METHODS = [
  'instance.ping',
  'instance.info',
  'session.list',
  'session.get',
  'session.activate',
  'message.list',
  'message.send',
  'session.interrupt',
  'state.sync',
] as const;
export type PandoMethod = (typeof PANDO_METHODS)[number];

export const PANDO_TOPICS = [
  'session.list',
  'session.update',
  'session.activated',
  'session.deleted',
  'llm.start',
  'llm.token',
  'llm.end',
  'tool.start',
  'tool.end',
  'message.append',
  'instance.heartbeat',
  'instance.shutdown',
] as const;
export type PandoTopic = (typeof PANDO_TOPICS)[number];

/** JSON-RPC error codes the bus answers with. */
export const RpcCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  handlerError: -32000,
} as const;
export const METHOD_NOT_FOUND_MESSAGE = 'ipc: method not found';

/** Largest request frame the bus parses; bigger ones are refused with -32600. */
export const MAX_RPC_FRAME_BYTES = 1024 * 1024;

export const RpcId = z.union([z.string(), z.number()]).nullable();
export type RpcId = z.infer<typeof RpcId>;

export const RpcError = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() });
export type RpcError = z.infer<typeof RpcError>;

export const RpcResponse = z.object({
  jsonrpc: z.literal('2.0').optional(),
  id: RpcId.optional(),
  result: z.unknown().optional(),
  error: RpcError.optional(),
});
export type RpcResponse = z.infer<typeof RpcResponse>;

export const RpcRequest = z.object({
  jsonrpc: z.literal('2.0').optional(),
  id: RpcId.optional(),
  method: z.string().min(1).max(200),
  params: z.unknown().optional(),
});
export type RpcRequest = z.infer<typeof RpcRequest>;

// ── Payloads (seed 000) ─────────────────────────────────────────────────────────────────────────────

export const SessionPayload = z.object({
  id: z.string(),
  title: z.string(),
  updated_at: z.string(),
  message_count: z.number().int(),
});
export type SessionPayload = z.infer<typeof SessionPayload>;

export const MessagePayload = z.object({
  id: z.string(),
  role: z.string(),
  content: z.string(),
  created_at: z.string(),
});
export type MessagePayload = z.infer<typeof MessagePayload>;

export const PingResult = z.object({ status: z.string(), instance_id: z.string(), uptime: z.string() });
export type PingResult = z.infer<typeof PingResult>;

export const OkResult = z.object({ ok: z.boolean() }).passthrough();
export type OkResult = z.infer<typeof OkResult>;

export const StateSyncResult = z.object({
  sessions: z.array(SessionPayload),
  active_session_id: z.string().optional(),
  instance_id: z.string(),
});
export type StateSyncResult = z.infer<typeof StateSyncResult>;

export const InstanceInfo = z.object({
  instance_id: z.string(),
  version: z.string(),
  pid: z.number().int(),
  started_at: z.string(),
  uptime: z.string(),
  endpoints: z.object({ pub: z.string(), rpc: z.string(), http: z.string().optional() }),
  session_count: z.number().int(),
  active_session_id: z.string().optional(),
  workdir: z.string(),
});
export type InstanceInfo = z.infer<typeof InstanceInfo>;

/** Tower's answer to message.send: a started turn or a follow-up queued behind the running one. */
export const MessageSendResult = z.object({
  ok: z.boolean(),
  status: z.enum(['started', 'queued']).optional(),
  turn_id: z.string().optional(),
  item_ids: z.array(z.string()).optional(),
});
export type MessageSendResult = z.infer<typeof MessageSendResult>;

export const InterruptResultPayload = z.object({ ok: z.boolean(), interrupted: z.boolean().optional() });

const sessionTarget = z.object({ session_id: z.string().min(1).max(200) });
/** Params per method; extra fields are ignored, as Go's decoder does. */
export const PandoParams = {
  'instance.ping': z.object({}),
  'instance.info': z.object({}),
  'session.list': z.object({}),
  'session.get': sessionTarget,
  'session.activate': sessionTarget,
  'message.list': sessionTarget,
  'message.send': sessionTarget.extend({ content: z.string().min(1).max(512 * 1024) }),
  'session.interrupt': sessionTarget,
  'state.sync': z.object({ project_id: z.string().optional() }),
} as const satisfies Record<PandoMethod, z.ZodType>;

export const TopicPayloads = {
  'session.list': z.object({ sessions: z.array(SessionPayload) }),
  'session.update': SessionPayload,
  'session.activated': SessionPayload,
  'session.deleted': SessionPayload,
  'llm.start': z.object({ session_id: z.string() }),
  'llm.token': z.object({ session_id: z.string(), token: z.string() }),
  'llm.end': z.object({ session_id: z.string(), tokens_in: z.number().int(), tokens_out: z.number().int() }),
  'tool.start': z.object({ session_id: z.string(), tool_name: z.string(), call_id: z.string(), params: z.string() }),
  'tool.end': z.object({
    session_id: z.string(),
    tool_name: z.string(),
    call_id: z.string(),
    is_error: z.boolean(),
    result: z.string(),
  }),
  'message.append': z.object({ session_id: z.string(), message_id: z.string(), role: z.string(), content: z.string() }),
  'instance.heartbeat': z.object({
    instance_id: z.string(),
    active_session_id: z.string().optional(),
    session_count: z.number().int(),
    uptime: z.string(),
    started_at: z.string(),
  }),
  'instance.shutdown': z.object({ instance_id: z.string(), reason: z.string().optional() }),
} as const satisfies Record<PandoTopic, z.ZodType>;
export type TopicPayload<T extends PandoTopic> = z.infer<(typeof TopicPayloads)[T]>;

export const Envelope = z.object({
  instanceId: z.string(),
  projectId: z.string(),
  sessionId: z.string().optional(),
  topic: z.string(),
  timestamp: z.string(),
  payload: z.unknown(),
});
export type Envelope = z.infer<typeof Envelope>;

/** `/tmp/pando-instances/<instance_id>.json`. */
export const RegistryEntry = z.object({
  instance_id: z.string().min(1),
  path: z.string(),
  pid: z.number().int().positive(),
  pub_port: z.number().int().min(1).max(65535),
  rpc_port: z.number().int().min(1).max(65535),
  started_at: z.string(),
  mode: z.string(),
  is_primary: z.boolean(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;

export const DEFAULT_REGISTRY_DIR = '/tmp/pando-instances';
export const REGISTRY_DIR_ENV = 'TOWER_PANDO_REGISTRY_DIR';

// ── Wire helpers (pure) ─────────────────────────────────────────────────────────────────────────────

/** FNV-1a, 32 bits, over the UTF-8 bytes (Go's hash/fnv New32a). */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Pando's ports for a working directory: PUB = base, RPC = base + 1. */
export function derivePorts(workdir: string): { pub: number; rpc: number } {
  const base = 40000 + (fnv32a(workdir) % 20000);
  return { pub: base, rpc: base + 1 };
}

/** A duration as Go's `time.Duration.String()` prints it (`1h30m0s`, `5.2s`, `350ms`, `0s`). */
export function goDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1000) return `${trimFraction(ms.toFixed(3))}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds - hours * 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const s = `${trimFraction(seconds.toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${s}`;
  if (minutes > 0) return `${minutes}m${s}`;
  return s;
}

function trimFraction(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** RFC 3339 with nanoseconds, UTC, trailing zeros trimmed (Go's `time.RFC3339Nano`). */
export function rfc3339Nano(date: Date = new Date()): string {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  const [head, frac = ''] = iso.slice(0, -1).split('.');
  const trimmed = frac.replace(/0+$/, '');
  return trimmed ? `${head}.${trimmed}Z` : `${head}Z`;
}

/** One PUB frame: topic, NUL, envelope JSON. */
export function encodePublication(envelope: Envelope): string {
  return `${envelope.topic}\0${JSON.stringify(envelope)}`;
}

/** Splits a PUB frame at the first NUL; undefined for a frame without one or with a bad envelope. */
export function decodePublication(frame: Buffer | string): { topic: string; envelope: Envelope } | undefined {
  const buf = typeof frame === 'string' ? Buffer.from(frame) : frame;
  const nul = buf.indexOf(0);
  if (nul < 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(buf.subarray(nul + 1).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = Envelope.safeParse(json);
  return parsed.success ? { topic: buf.subarray(0, nul).toString('utf8'), envelope: parsed.data } : undefined;
}
