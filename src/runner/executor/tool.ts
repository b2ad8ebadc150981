import { z } from 'zod';
import type { ToolContext, ToolResult, ToolSpec } from '../../protocol/tools.js';
import type { SandboxMode } from '../../protocol/session.js';
import type { ProcessRegistry } from '../process-registry.js';
import type { RunnerLogger } from '../reap.js';

/** What a built-in tool gets besides its arguments. */
export interface ToolRunContext extends ToolContext {
  /** Real (symlink-free) absolute path of the working directory, resolved once per call. */
  root: string;
  /** The model's tool-call id; names spilled output files so they can be traced back to the call. */
  callId: string;
  /** How commands are run: resolved from the executor's options and the session's overrides. */
  commands: CommandSettings;
  /** What webfetch may reach (the executor's options; network access itself is `commands.network`). */
  web: WebAccess;
}

export interface WebAccess {
  /** Loopback, private, link-local and CGNAT addresses may be fetched (config `allow_private_net`). */
  allowPrivateNet: boolean;
  /** Which addresses count as internal; tests narrow it to stand a local server in for a public one. */
  isBlockedAddress?: (address: string) => boolean;
}

export interface CommandSettings {
  registry: ProcessRegistry;
  sandbox: SandboxMode;
  network: boolean;
  /** Paths bash must not see (the server's data dir). */
  hide: readonly string[];
  /** The complete, already filtered environment for commands. */
  env: Record<string, string>;
  logger?: RunnerLogger;
}

/** A built-in tool with its arguments already type-erased: the executor hands it whatever the model sent. */
export interface BuiltinTool<N extends string = string> {
  readonly name: N;
  readonly spec: ToolSpec;
  /** Validates `args`; a validation failure is an `is_error` result, never a throw. */
  run(args: unknown, ctx: ToolRunContext): Promise<ToolResult>;
}

export interface ToolDefinition<N extends string, S extends z.ZodType> {
  name: N;
  description: string;
  schema: S;
  run(args: z.output<S>, ctx: ToolRunContext): Promise<ToolResult>;
}

/**
 * Builds a tool from one zod schema, used both to validate the model's arguments and to generate the JSON
 * Schema the model is shown, so the two cannot disagree.
 */
export function defineTool<N extends string, S extends z.ZodType>(def: ToolDefinition<N, S>): BuiltinTool<N> {
  // `input` mode: fields with defaults are optional for the model even though they are always set after parsing.
  const { $schema: _dialect, ...parameters } = z.toJSONSchema(def.schema, { io: 'input' });
  return {
    name: def.name,
    spec: { name: def.name, description: def.description, parameters },
    async run(args, ctx) {
      // Models send `null` or nothing for a call whose arguments are all optional.
      const parsed = def.schema.safeParse(args ?? {});
      if (!parsed.success) return fail(`invalid arguments for ${def.name}: ${formatIssues(parsed.error)}`);
      return def.run(parsed.data, ctx);
    },
  };
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export function ok(output: string, exitCode?: number): ToolResult {
  return exitCode === undefined ? { output, is_error: false } : { output, is_error: false, exit_code: exitCode };
}

export function fail(output: string, exitCode?: number): ToolResult {
  return exitCode === undefined ? { output, is_error: true } : { output, is_error: true, exit_code: exitCode };
}
