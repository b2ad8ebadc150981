import { z } from 'zod';
import type { OperationArgs, TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import { BashResult, GlobResult, GrepResult, ListResult, ReadResult, WebFetchFormat, WebFetchResult, WriteResult } from '../../protocol/runner.js';
import type { ToolResult } from '../../protocol/tools.js';
import { LIMITS } from '../../runner/executor/limits.js';
import { WEBFETCH } from '../../runner/ops/webfetch.js';

/** Tower's built-in tools that a runner serves, as seed-004 operations. */
export const REMOTE_TOOLS = ['read', 'write', 'list', 'glob', 'grep', 'bash', 'webfetch'] as const;
export type RemoteTool = (typeof REMOTE_TOOLS)[number];

export function isRemoteTool(name: string): name is RemoteTool {
  return (REMOTE_TOOLS as readonly string[]).includes(name);
}

const str = z.string();
const ReadIn = z.object({ path: str }).passthrough();
const WriteIn = z.object({ path: str, content: str }).passthrough();
const ListIn = z.object({ path: str.optional() }).passthrough();
const GlobIn = z.object({ pattern: str, path: str.optional() }).passthrough();
const GrepIn = z.object({ pattern: str, path: str.optional(), include: str.optional() }).passthrough();
const BashIn = z.object({ command: str, timeout: z.number().positive().optional() }).passthrough();
const WebFetchIn = z.object({ url: str, format: WebFetchFormat.optional(), timeout: z.number().positive().optional() }).passthrough();

export type Mapped = { [O in TaskOperation]: { operation: O; args: OperationArgs[O] } }[TaskOperation];

const join = (dir: string | undefined, rest: string): string => (!dir || dir === '.' ? rest : `${dir.replace(/\/+$/, '')}/${rest}`);

/** The operation for a tool call, or a message for the model when its args do not fit. */
export function toOperation(tool: RemoteTool, args: unknown): Mapped | string {
  const bad = (e: z.ZodError) => `invalid ${tool} arguments: ${e.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ')}`;
  switch (tool) {
    case 'read': {
      const p = ReadIn.safeParse(args);
      return p.success ? { operation: 'read', args: { path: p.data.path } } : bad(p.error);
    }
    case 'write': {
      const p = WriteIn.safeParse(args);
      return p.success ? { operation: 'write', args: { path: p.data.path, content: Buffer.from(p.data.content, 'utf8').toString('base64') } } : bad(p.error);
    }
    case 'list': {
      const p = ListIn.safeParse(args ?? {});
      return p.success ? { operation: 'list', args: { path: p.data.path ?? '.' } } : bad(p.error);
    }
    case 'glob': {
      const p = GlobIn.safeParse(args);
      return p.success ? { operation: 'glob', args: { pattern: join(p.data.path, p.data.pattern) } } : bad(p.error);
    }
    case 'grep': {
      const p = GrepIn.safeParse(args);
      if (!p.success) return bad(p.error);
      const include = p.data.include ? [join(p.data.path, p.data.include)] : p.data.path && p.data.path !== '.' ? [join(p.data.path, '**')] : undefined;
      return { operation: 'grep', args: { pattern: p.data.pattern, ...(include ? { include } : {}) } };
    }
    case 'bash': {
      const p = BashIn.safeParse(args);
      return p.success ? { operation: 'bash', args: { command: p.data.command, ...(p.data.timeout ? { timeout: p.data.timeout } : {}) } } : bad(p.error);
    }
    case 'webfetch': {
      const p = WebFetchIn.safeParse(args);
      if (!p.success) return bad(p.error);
      const { url, format, timeout } = p.data;
      return { operation: 'webfetch', args: { url, ...(format ? { format } : {}), ...(timeout ? { timeout } : {}) } };
    }
  }
}

/**
 * How long Tower waits beyond an operation's own limit before it gives up on a runner: the runner's kill
 * grace, its pipe drain and the round trip of the answer.
 */
export const TASK_LIMIT_SLACK_MS = 15_000;

/**
 * How long a remote task may take, from dispatch to result, before Tower ends it (`task_timeout`): the
 * limit the tool has when it runs locally (bash's and webfetch's `timeout`, their defaults when not given)
 * plus the slack. The file tools have no limit of their own locally; remotely they get bash's default.
 */
export function taskLimitMs(mapped: Mapped): number {
  switch (mapped.operation) {
    case 'bash':
      return (mapped.args.timeout ?? LIMITS.bashDefaultTimeoutSec) * 1000 + TASK_LIMIT_SLACK_MS;
    case 'webfetch':
      return (mapped.args.timeout ?? WEBFETCH.defaultTimeoutSec) * 1000 + TASK_LIMIT_SLACK_MS;
    default:
      return LIMITS.bashDefaultTimeoutSec * 1000 + TASK_LIMIT_SLACK_MS;
  }
}

/** The line a truncated runner result ends with: where the whole output was saved. */
export const truncNote = (r: { truncated?: boolean | undefined; file_path?: string | undefined; total_size?: number | undefined }): string =>
  r.truncated ? `\n[output truncated: ${r.total_size ?? '?'} bytes in total, saved whole to ${r.file_path ?? '?'} on the runner; read it with offset]` : '';

/** A runner's `task.result` as the model's tool result text. */
export function toToolResult(tool: RemoteTool, result: TaskResultPayload): ToolResult {
  if (!result.success && tool !== 'bash') return { output: result.error ?? `${tool} failed on the runner`, is_error: true };
  const shape = <T>(schema: z.ZodType<T>): T | undefined => {
    const p = schema.safeParse(result.result);
    return p.success ? p.data : undefined;
  };
  const junk: ToolResult = { output: `the runner answered ${tool} with a result of the wrong shape`, is_error: true };
  switch (tool) {
    case 'read': {
      const r = shape(ReadResult);
      return r ? { output: Buffer.from(r.content, 'base64').toString('utf8'), is_error: false } : junk;
    }
    case 'write': {
      const r = shape(WriteResult);
      return r ? { output: `wrote ${r.size} bytes to ${r.path}`, is_error: false } : junk;
    }
    case 'list': {
      const r = shape(ListResult);
      return r ? { output: r.entries.map((e) => (e.is_dir ? `${e.path}/` : e.path)).join('\n') || '(empty directory)', is_error: false } : junk;
    }
    case 'glob': {
      const r = shape(GlobResult);
      return r ? { output: r.matches.join('\n') || 'no matches', is_error: false } : junk;
    }
    case 'grep': {
      const r = shape(GrepResult);
      if (!r) return junk;
      const text = r.content || r.matches.map((m) => `${m.path}:${m.line_number}: ${m.content}`).join('\n');
      return { output: (text || 'no matches') + truncNote(r), is_error: false };
    }
    case 'bash': {
      const r = shape(BashResult);
      if (!r) return { output: result.error ?? 'bash failed on the runner', is_error: true, ...(result.exit_code !== undefined ? { exit_code: result.exit_code } : {}) };
      const parts = [r.stdout.replace(/\n$/, ''), r.stderr ? `[stderr]\n${r.stderr.replace(/\n$/, '')}` : '', `[exit code ${r.exit_code}]`];
      const out = parts.filter((p) => p !== '').join('\n') + truncNote(r);
      return { output: result.success ? out : `${result.error ?? 'failed'}\n${out}`, is_error: !result.success || r.exit_code !== 0, exit_code: r.exit_code };
    }
    case 'webfetch': {
      const r = shape(WebFetchResult);
      return r ? { output: r.content + truncNote(r), is_error: false } : junk;
    }
  }
}
