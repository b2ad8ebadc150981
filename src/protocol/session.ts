import { z } from 'zod';

export const SessionStatus = z.enum(['idle', 'running']);
export type SessionStatus = z.infer<typeof SessionStatus>;

/** Tool permissions: glob patterns on tool names with optional argument conditions (`bash:cmd=git *`). */
export const Permissions = z.object({
  allow: z.array(z.string()).default([]),
  ask: z.array(z.string()).default([]),
  deny: z.array(z.string()).default([]),
  policy: z.enum(['strict', 'balanced', 'autonomous']).default('balanced'),
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
