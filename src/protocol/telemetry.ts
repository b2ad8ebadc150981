import { z } from 'zod';

/** Per-session process telemetry (seed 001's TelemetryEvent); `instance_id` is the session id. */
export const Telemetry = z.object({
  instance_id: z.string(),
  pid: z.number().int(),
  title: z.string(),
  turns: z.number().int().nonnegative(),
  tokens_in: z.number().int().nonnegative(),
  tokens_out: z.number().int().nonnegative(),
  cost: z.number().nonnegative(),
  /** running while a turn runs; completed / error / canceled after the last turn; idle before any. */
  status: z.enum(['idle', 'running', 'completed', 'error', 'canceled']),
  duration_sec: z.number().int().nonnegative(),
});
export type Telemetry = z.infer<typeof Telemetry>;

export const TelemetryList = z.object({ sessions: z.array(Telemetry) });

export const TaskStreamType = z.enum(['turn_start', 'text', 'tool_use', 'tool_result', 'turn_end', 'error', 'status']);
export type TaskStreamType = z.infer<typeof TaskStreamType>;

/** A task-execution event for dashboards (seed 001's TaskStreamEvent), derived from session events. */
export const TaskStream = z.object({
  task_id: z.string(),
  session_id: z.string(),
  seq: z.number().int().positive(),
  thread_id: z.string().optional(),
  stream_type: TaskStreamType,
  turn_num: z.number().int().optional(),
  text: z.string().optional(),
  tool_name: z.string().optional(),
  tool_input: z.string().optional(),
  tool_output: z.string().optional(),
  error_msg: z.string().optional(),
  status: z.string().optional(),
  tokens_in: z.number().int().optional(),
  tokens_out: z.number().int().optional(),
  cost: z.number().optional(),
  duration_sec: z.number().int().optional(),
  workspace: z.string().optional(),
  directive: z.string().optional(),
  directive_full: z.string().optional(),
  agent_id: z.string().optional(),
  source_type: z.string().optional(),
});
export type TaskStream = z.infer<typeof TaskStream>;

/** What a session is doing, as a list shows it. */
export type SessionActivity = 'idle' | 'running' | 'waiting_confirmation' | 'waiting_input';

/**
 * One `session_change` frame of the hub's `sessions` topic: a session's list row changed. `seq` is the
 * session event it comes from, so a client folds changes per session in seq order and drops what its
 * list already holds (`last_event_seq`). `deleted` removes the row; otherwise the fields present are
 * the new values (a created session carries its title, model and working dir).
 */
export interface SessionChange {
  session_id: string;
  seq: number;
  timestamp: string;
  deleted?: true;
  title?: string;
  model?: string;
  working_dir?: string;
  starred?: boolean;
  status?: 'idle' | 'running';
  activity?: SessionActivity;
  input_tokens?: number;
  output_tokens?: number;
  cost?: number;
}
