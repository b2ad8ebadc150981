import { z } from 'zod';
import { McpSettings } from './mcp.js';

export const SessionStatus = z.enum(['idle', 'running']);
export type SessionStatus = z.infer<typeof SessionStatus>;

/**
 * What tools no rule names do: `strict` asks for everything that writes or executes, `balanced` asks
 * for execution (bash and tools of unknown effect), `autonomous` asks for nothing.
 */
export const SafetyPolicy = z.enum(['strict', 'balanced', 'autonomous']);
export type SafetyPolicy = z.infer<typeof SafetyPolicy>;

const permissionFields = {
  allow: z.array(z.string()),
  ask: z.array(z.string()),
  deny: z.array(z.string()),
  policy: SafetyPolicy,
  /** Approve every call that no deny rule stops (toggled with POST /tools/toggle). */
  auto_approve: z.boolean(),
};

/** Tool permissions: glob patterns on tool names with optional argument conditions (`bash:cmd=git *`). */
export const Permissions = z.object({
  allow: permissionFields.allow.default([]),
  ask: permissionFields.ask.default([]),
  deny: permissionFields.deny.default([]),
  policy: permissionFields.policy.default('balanced'),
  auto_approve: permissionFields.auto_approve.default(false),
});
export type Permissions = z.infer<typeof Permissions>;

/**
 * A change to permissions: only the fields it names. No defaults here (zod 4 fills defaults even inside
 * `.optional()`, so `Permissions.partial()` would turn `{deny: [...]}` into a reset of allow and ask).
 */
export const PermissionsPatch = z.object(permissionFields).partial();
export type PermissionsPatch = z.infer<typeof PermissionsPatch>;

/**
 * How bash is contained: `bwrap` requires bubblewrap (a call fails when it does not work here), `none` runs
 * commands directly, `auto` uses bwrap when it works on the machine and says so in the log when not.
 */
export const SandboxMode = z.enum(['auto', 'bwrap', 'none']);
export type SandboxMode = z.infer<typeof SandboxMode>;

/** Per-session executor settings, overriding the server's config. */
export const SessionSettings = z.object({
  /** Per-session override of the server's `sandbox` setting. */
  sandbox: SandboxMode.optional(),
  /** Let sandboxed commands use the network (default: off). */
  network: z.boolean().optional(),
  /** MCP servers whose tools the session offers as `mcp__<server>__<tool>` (besides the config's). */
  mcp: McpSettings.optional(),
});
export type SessionSettings = z.infer<typeof SessionSettings>;
/**
 * Where a session's tools run: on an online remote runner whose labels include all of `labels` (least
 * busy first). Absent or null: on the Tower server itself.
 */
export const RunnerPlacement = z
  .object({ labels: z.array(z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'labels are letters, digits and _ . : -')).max(20) })
  .strict();
export type RunnerPlacement = z.infer<typeof RunnerPlacement>;

export const Session = z.object({
  id: z.string(),
  title: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  working_dir: z.string(),
  model: z.string(),
  permissions: Permissions,
  starred: z.boolean(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cost: z.number().nonnegative(),
  message_count: z.number().int().nonnegative(),
  status: SessionStatus,
  last_event_seq: z.number().int().nonnegative(),
  /** Per-session override of the server's `sandbox` setting. */
  sandbox: SandboxMode.optional(),
  /** Let sandboxed commands use the network (default: off). */
  network: z.boolean().optional(),
  /** The session's own MCP servers (the config's defaults apply too). */
  mcp: McpSettings.optional(),
  /** Where the session's tools run; absent or null: on the server (or the config's `runner` default). */
  runner: RunnerPlacement.nullable().optional(),
});
export type Session = z.infer<typeof Session>;
