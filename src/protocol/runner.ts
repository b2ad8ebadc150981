import { z } from 'zod';
import { isRecord } from './guards.js';

/**
 * The WebSocket protocol between Tower (the control plane) and `tower runner` (a remote worker), with the
 * names and fields of seed 004 (Flashduty Runner), so a runner of either side can talk to the other.
 * Tower's additions are optional fields only. No I/O here: both ends import these schemas.
 *
 * `timestamp` is Unix milliseconds. Payloads are validated with the envelope; a task's `args` are validated
 * per operation when the task runs, so bad args become a failed `task.result`, not a protocol error.
 */

/** A frame larger than this is refused before it is parsed (the gateway and the runner alike). */
export const RUNNER_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export const RUNNER_PROTOCOL_VERSION = '1';

// ---------------------------------------------------------------------------------------------- payloads

export const WelcomePayload = z.object({
  worknode_id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
});
export type WelcomePayload = z.infer<typeof WelcomePayload>;

export const EnvironmentInfo = z.object({
  os: z.string(),
  os_version: z.string(),
  arch: z.string(),
  hostname: z.string(),
  shell: z.string(),
  home_dir: z.string(),
  workspace_root: z.string(),
  username: z.string(),
  num_cpu: z.number().int().nonnegative(),
  total_memory_mb: z.number().int().nonnegative(),
  current_time: z.string(),
  timezone: z.string(),
  utc_offset: z.string(),
});
export type EnvironmentInfo = z.infer<typeof EnvironmentInfo>;

const percent = z.number().min(0).max(100);
export const HeartbeatMetrics = z.object({
  cpu_percent: percent.optional(),
  memory_percent: percent.optional(),
  disk_percent: percent.optional(),
});
export type HeartbeatMetrics = z.infer<typeof HeartbeatMetrics>;

export const HeartbeatPayload = z.object({
  worknode_id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  version: z.string(),
  environment: EnvironmentInfo.optional(),
  metrics: HeartbeatMetrics.optional(),
});
export type HeartbeatPayload = z.infer<typeof HeartbeatPayload>;

export const TASK_OPERATIONS = [
  'read',
  'write',
  'list',
  'glob',
  'grep',
  'bash',
  'webfetch',
  'mcp_call',
  'mcp_list_tools',
  'sync_skill',
] as const;
export const TaskOperation = z.enum(TASK_OPERATIONS);
export type TaskOperation = z.infer<typeof TaskOperation>;

const taskId = z.string().min(1).max(200);

export const TaskRequestPayload = z.object({
  task_id: taskId,
  trace_id: z.string().optional(),
  source_instance_id: z.string().optional(),
  operation: TaskOperation,
  args: z.unknown(),
});
export type TaskRequestPayload = z.infer<typeof TaskRequestPayload>;

export const TaskCancelPayload = z.object({ task_id: taskId });
export type TaskCancelPayload = z.infer<typeof TaskCancelPayload>;

export const OutputStreamName = z.enum(['stdout', 'stderr']);
export const TaskOutputPayload = z.object({
  task_id: taskId,
  stream: OutputStreamName,
  data: z.string(),
});
export type TaskOutputPayload = z.infer<typeof TaskOutputPayload>;

export const TaskResultPayload = z.object({
  task_id: taskId,
  source_instance_id: z.string().optional(),
  success: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  exit_code: z.number().int().optional(),
});
export type TaskResultPayload = z.infer<typeof TaskResultPayload>;

export const MCPServerConfig = z.object({
  name: z.string().min(1),
  /** `sse` is seed 004's name for the HTTP transport; Tower speaks streamable HTTP for both. */
  transport: z.enum(['stdio', 'sse', 'http', 'streamable-http']),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  url: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  dynamic_headers: z.record(z.string(), z.string()).optional(),
});
export type MCPServerConfig = z.infer<typeof MCPServerConfig>;

export const MCPCallPayload = z.object({
  call_id: z.string().min(1).max(200),
  server: MCPServerConfig,
  tool_name: z.string().min(1),
  arguments: z.unknown().optional(),
});
export type MCPCallPayload = z.infer<typeof MCPCallPayload>;

export const MCPResultPayload = z.object({
  call_id: z.string().min(1).max(200),
  success: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export type MCPResultPayload = z.infer<typeof MCPResultPayload>;

/** Tower's answer to a frame it could not accept (never sent by Flashduty; ignored by runners that do not know it). */
export const ErrorPayload = z.object({ code: z.string(), message: z.string() });
export type ErrorPayload = z.infer<typeof ErrorPayload>;

// ---------------------------------------------------------------------------------------------- operations

/** Operation args and results of seed 004. Offsets, limits and sizes are bytes; timeouts are seconds. */
export const ReadArgs = z.object({
  path: z.string().min(1),
  offset: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().optional(),
});
export type ReadArgs = z.infer<typeof ReadArgs>;
export const ReadResult = z.object({ content: z.string(), total_size: z.number().int() });
export type ReadResult = z.infer<typeof ReadResult>;

/** Seed 004 names WriteArgs without its fields; `content` is base64, like read's. */
export const WriteArgs = z.object({ path: z.string().min(1), content: z.string() });
export type WriteArgs = z.infer<typeof WriteArgs>;
export const WriteResult = z.object({ path: z.string(), size: z.number().int() });
export type WriteResult = z.infer<typeof WriteResult>;

export const ListArgs = z.object({
  path: z.string().default('.'),
  recursive: z.boolean().optional(),
  ignore: z.array(z.string()).optional(),
});
export type ListArgs = z.infer<typeof ListArgs>;
export const ListEntry = z.object({ path: z.string(), is_dir: z.boolean(), size: z.number().int() });
export type ListEntry = z.infer<typeof ListEntry>;
export const ListResult = z.object({ entries: z.array(ListEntry) });
export type ListResult = z.infer<typeof ListResult>;

export const GlobArgs = z.object({ pattern: z.string().min(1) });
export type GlobArgs = z.infer<typeof GlobArgs>;
export const GlobResult = z.object({ matches: z.array(z.string()) });
export type GlobResult = z.infer<typeof GlobResult>;

/** Fields shared by results whose text may have been saved whole to a file. */
const truncation = {
  truncated: z.boolean().optional(),
  file_path: z.string().optional(),
  total_size: z.number().int().optional(),
};

export const GrepArgs = z.object({ pattern: z.string().min(1), include: z.array(z.string()).optional() });
export type GrepArgs = z.infer<typeof GrepArgs>;
export const GrepMatch = z.object({ path: z.string(), line_number: z.number().int(), content: z.string() });
export type GrepMatch = z.infer<typeof GrepMatch>;
export const GrepResult = z.object({ matches: z.array(GrepMatch), content: z.string(), ...truncation });
export type GrepResult = z.infer<typeof GrepResult>;

export const BashArgs = z.object({
  command: z.string().min(1),
  workdir: z.string().optional(),
  timeout: z.number().positive().optional(),
});
export type BashArgs = z.infer<typeof BashArgs>;
export const BashResult = z.object({
  stdout: z.string(),
  stderr: z.string(),
  exit_code: z.number().int(),
  ...truncation,
});
export type BashResult = z.infer<typeof BashResult>;

export const WebFetchFormat = z.enum(['markdown', 'text', 'html']);
export const WebFetchArgs = z.object({
  url: z.string().min(1),
  format: WebFetchFormat.optional(),
  timeout: z.number().positive().optional(),
});
export type WebFetchArgs = z.infer<typeof WebFetchArgs>;
export const WebFetchResult = z.object({ content: z.string(), url: z.string(), ...truncation });
export type WebFetchResult = z.infer<typeof WebFetchResult>;

export const MCPCallArgs = z.object({
  server: MCPServerConfig,
  tool_name: z.string().min(1),
  args: z.unknown().optional(),
  timeout: z.number().positive().optional(),
});
export type MCPCallArgs = z.infer<typeof MCPCallArgs>;
export const MCPCallResult = z.object({ content: z.string(), is_error: z.boolean().optional(), ...truncation });
export type MCPCallResult = z.infer<typeof MCPCallResult>;

export const MCPListToolsArgs = z.object({ server: MCPServerConfig });
export type MCPListToolsArgs = z.infer<typeof MCPListToolsArgs>;
export const MCPToolInfo = z.object({
  name: z.string(),
  description: z.string(),
  input_schema: z.unknown().optional(),
  /** The tool's MCP annotations (Tower's addition to seed 004: `readOnlyHint` lets a session skip asking). */
  annotations: z
    .object({ title: z.string().optional(), readOnlyHint: z.boolean().optional(), destructiveHint: z.boolean().optional(), idempotentHint: z.boolean().optional(), openWorldHint: z.boolean().optional() })
    .optional(),
});
export type MCPToolInfo = z.infer<typeof MCPToolInfo>;
export const MCPListToolsResult = z.object({ tools: z.array(MCPToolInfo) });
export type MCPListToolsResult = z.infer<typeof MCPListToolsResult>;

export const SyncSkillArgs = z.object({
  skill_name: z.string().min(1),
  skill_dir: z.string().min(1),
  zip_data: z.string(),
  checksum: z.string().min(1),
});
export type SyncSkillArgs = z.infer<typeof SyncSkillArgs>;
export const SyncSkillResult = z.object({ success: z.boolean(), path: z.string() });
export type SyncSkillResult = z.infer<typeof SyncSkillResult>;

/** The args schema of each operation, for the runner's dispatcher and the gateway's sender alike. */
export const OPERATION_ARGS = {
  read: ReadArgs,
  write: WriteArgs,
  list: ListArgs,
  glob: GlobArgs,
  grep: GrepArgs,
  bash: BashArgs,
  webfetch: WebFetchArgs,
  mcp_call: MCPCallArgs,
  mcp_list_tools: MCPListToolsArgs,
  sync_skill: SyncSkillArgs,
} as const satisfies Record<TaskOperation, z.ZodType>;

export interface OperationArgs {
  read: ReadArgs;
  write: WriteArgs;
  list: ListArgs;
  glob: GlobArgs;
  grep: GrepArgs;
  bash: BashArgs;
  webfetch: WebFetchArgs;
  mcp_call: MCPCallArgs;
  mcp_list_tools: MCPListToolsArgs;
  sync_skill: SyncSkillArgs;
}

export interface OperationResults {
  read: ReadResult;
  write: WriteResult;
  list: ListResult;
  glob: GlobResult;
  grep: GrepResult;
  bash: BashResult;
  webfetch: WebFetchResult;
  mcp_call: MCPCallResult;
  mcp_list_tools: MCPListToolsResult;
  sync_skill: SyncSkillResult;
}

// ---------------------------------------------------------------------------------------------- envelope

export const MESSAGE_PAYLOADS = {
  welcome: WelcomePayload,
  heartbeat: HeartbeatPayload,
  'task.request': TaskRequestPayload,
  'task.output': TaskOutputPayload,
  'task.result': TaskResultPayload,
  'task.cancel': TaskCancelPayload,
  'mcp.call': MCPCallPayload,
  'mcp.result': MCPResultPayload,
  error: ErrorPayload,
} as const;
export type MessageType = keyof typeof MESSAGE_PAYLOADS;
export const MESSAGE_TYPES = Object.keys(MESSAGE_PAYLOADS) as MessageType[];
export type PayloadOf<T extends MessageType> = z.infer<(typeof MESSAGE_PAYLOADS)[T]>;

export interface RunnerMessageOf<T extends MessageType> {
  id: string;
  type: T;
  payload: PayloadOf<T>;
  timestamp: number;
}
/** A validated frame, discriminated on `type`. */
export type RunnerMessage = { [T in MessageType]: RunnerMessageOf<T> }[MessageType];

const Envelope = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1),
  payload: z.unknown(),
  timestamp: z.number().int().nonnegative(),
});

export type FrameErrorCode = 'frame_too_large' | 'invalid_json' | 'invalid_envelope' | 'unknown_type' | 'invalid_payload';
export interface FrameError {
  code: FrameErrorCode;
  message: string;
  /** The frame's id and type when they could be read, so an error answer can name the frame it refuses. */
  id?: string;
  type?: string;
}
export type FrameParseResult = { ok: true; message: RunnerMessage } | { ok: false; error: FrameError };

function isMessageType(value: string): value is MessageType {
  return Object.hasOwn(MESSAGE_PAYLOADS, value);
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Size of a frame as received: a string is measured in UTF-8 bytes, as it travelled. */
export function frameBytes(frame: string | Uint8Array): number {
  return typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.byteLength;
}

const isTaskId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 200;
const optString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';
const OPERATIONS: ReadonlySet<string> = new Set(TASK_OPERATIONS);

/**
 * The two frames of every task, checked by hand: the same rules as their zod schemas and the same output
 * (known keys only), for a fraction of the code run per frame. Undefined when a frame does not pass, so
 * zod decides and words the refusal exactly as before (`runner.test.ts` compares both on every shape).
 */
function fastPayload(type: MessageType, p: unknown): PayloadOf<'task.request'> | PayloadOf<'task.result'> | undefined {
  if (!isRecord(p) || !isTaskId(p.task_id) || !optString(p.source_instance_id)) return undefined;
  if (type === 'task.request') {
    // `args` is z.unknown(): zod requires the key, whatever its value.
    if (typeof p.operation !== 'string' || !OPERATIONS.has(p.operation) || !optString(p.trace_id) || !('args' in p)) return undefined;
    return {
      task_id: p.task_id,
      ...(p.trace_id !== undefined ? { trace_id: p.trace_id } : {}),
      ...(p.source_instance_id !== undefined ? { source_instance_id: p.source_instance_id } : {}),
      operation: p.operation as TaskOperation,
      args: p.args,
    };
  }
  if (type !== 'task.result') return undefined;
  if (typeof p.success !== 'boolean' || !optString(p.error)) return undefined;
  if (p.exit_code !== undefined && !Number.isSafeInteger(p.exit_code)) return undefined;
  return {
    task_id: p.task_id,
    ...(p.source_instance_id !== undefined ? { source_instance_id: p.source_instance_id } : {}),
    success: p.success,
    ...('result' in p ? { result: p.result } : {}),
    ...(p.error !== undefined ? { error: p.error } : {}),
    ...(p.exit_code !== undefined ? { exit_code: p.exit_code as number } : {}),
  };
}

/** Parses one WebSocket frame; never throws. */
export function parseFrame(frame: string | Uint8Array, maxBytes = RUNNER_MAX_FRAME_BYTES): FrameParseResult {
  const size = frameBytes(frame);
  if (size > maxBytes) {
    return { ok: false, error: { code: 'frame_too_large', message: `frame of ${size} bytes exceeds the ${maxBytes}-byte limit` } };
  }
  let raw: unknown;
  try {
    // A Buffer (what ws hands over) is decoded in place, not copied first.
    raw = JSON.parse(typeof frame === 'string' ? frame : Buffer.isBuffer(frame) ? frame.toString('utf8') : Buffer.from(frame).toString('utf8'));
  } catch (err) {
    return { ok: false, error: { code: 'invalid_json', message: `frame is not JSON: ${err instanceof Error ? err.message : String(err)}` } };
  }
  // The hot path: a well-formed task frame passes the hand checks; anything else goes through zod below.
  if (isRecord(raw) && isTaskId(raw.id) && typeof raw.type === 'string' && (raw.type === 'task.request' || raw.type === 'task.result')) {
    const { timestamp } = raw;
    if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0) {
      const payload = fastPayload(raw.type, raw.payload);
      if (payload !== undefined) return { ok: true, message: { id: raw.id, type: raw.type, payload, timestamp } as RunnerMessage };
    }
  }
  return parseParsedFrame(raw);
}

/** `parseFrame` after `JSON.parse`, with zod throughout (the reference the hand checks above are tested against). */
export function parseParsedFrame(raw: unknown): FrameParseResult {
  const envelope = Envelope.safeParse(raw);
  if (!envelope.success) {
    return { ok: false, error: { code: 'invalid_envelope', message: `frame is not a {id, type, payload, timestamp} envelope: ${describe(envelope.error)}` } };
  }
  const { id, type, payload, timestamp } = envelope.data;
  if (!isMessageType(type)) {
    return { ok: false, error: { code: 'unknown_type', message: `unknown message type "${type.slice(0, 100)}"`, id, type } };
  }
  const parsed = MESSAGE_PAYLOADS[type].safeParse(payload);
  if (!parsed.success) {
    return { ok: false, error: { code: 'invalid_payload', message: `invalid ${type} payload: ${describe(parsed.error)}`, id, type } };
  }
  // The pairing of `type` and the payload's schema is checked above; TypeScript cannot follow the lookup.
  return { ok: true, message: { id, type, payload: parsed.data, timestamp } as RunnerMessage };
}

/** Builds a frame; the payload is typed by `type`, so a sender cannot put the wrong fields in. */
export function makeMessage<T extends MessageType>(type: T, payload: PayloadOf<T>, id: string, now = Date.now()): RunnerMessageOf<T> {
  return { id, type, payload, timestamp: now };
}

export type ArgsParseResult<O extends TaskOperation> = { ok: true; args: OperationArgs[O] } | { ok: false; message: string };

/** Validates a task's `args` for its operation. */
export function parseOperationArgs<O extends TaskOperation>(operation: O, args: unknown): ArgsParseResult<O> {
  const parsed = OPERATION_ARGS[operation].safeParse(args ?? {});
  if (!parsed.success) return { ok: false, message: `invalid ${operation} args: ${describe(parsed.error)}` };
  return { ok: true, args: parsed.data as OperationArgs[O] };
}
