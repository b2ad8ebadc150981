import { z } from 'zod';

export const SessionStatus = z.enum(['idle', 'running']);
export type SessionStatus = z.infer<typeof SessionStatus>;

/**
 * What tools no rule names do: `strict` asks for everything that writes or executes, `balanced` asks
 * for execution (bash and tools of unknown effect), `autonomous` asks for nothing.
 */
export const SafetyPolicy = z.enum(['strict', 'balanced', 'autonomous']);
export type SafetyPolicy = z.infer<typeof SafetyPolicy>;

/** Tool permissions: glob patterns on tool names with optional argument conditions (`bash:cmd=git *`). */
export const Permissions = z.object({
  allow: z.array(z.string()).default([]),
  ask: z.array(z.string()).default([]),
  deny: z.array(z.string()).default([]),
  policy: SafetyPolicy.default('balanced'),
  /** Approve every call that no deny rule stops (toggled with POST /tools/toggle). */
  auto_approve: z.boolean().default(false),
});
export type Permissions = z.infer<typeof Permissions>;

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
});
export type Session = z.infer<typeof Session>;
