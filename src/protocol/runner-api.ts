import { z } from 'zod';
import { EnvironmentInfo, HeartbeatMetrics } from './runner.js';
import { text } from './text.js';

/** The runner administration API (`/api/runners…`) and the runner events the hub carries. */

const Label = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'labels are letters, digits and _ . : -');

export const CreateRunnerTokenBody = z
  .object({ name: text().min(1).max(200), labels: z.array(Label).max(20).default([]) })
  .strict();
export type CreateRunnerTokenBody = z.infer<typeof CreateRunnerTokenBody>;

/** A token as listed: never the token nor its hash. The token's id is also its runner's id. */
export const RunnerTokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
export type RunnerTokenInfo = z.infer<typeof RunnerTokenInfo>;

/** The answer to a creation: the only time the token itself is shown. */
export const CreatedRunnerToken = RunnerTokenInfo.extend({ token: z.string() });
export type CreatedRunnerToken = z.infer<typeof CreatedRunnerToken>;

export const RunnerTokenList = z.object({ tokens: z.array(RunnerTokenInfo) });
export type RunnerTokenList = z.infer<typeof RunnerTokenList>;

export const RevokedRunnerToken = z.object({ revoked: z.literal(true), disconnected: z.number().int().nonnegative() });
export type RevokedRunnerToken = z.infer<typeof RevokedRunnerToken>;

export const RunnerView = z.object({
  id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  status: z.enum(['online', 'offline']),
  connected_at: z.string().nullable(),
  last_heartbeat: z.string().nullable(),
  version: z.string().nullable(),
  environment: EnvironmentInfo.nullable(),
  metrics: HeartbeatMetrics.nullable(),
  running_tasks: z.number().int().nonnegative(),
  /** In a cluster: the node whose gateway holds the runner's connection (absent on a single node). */
  node: z.string().optional(),
});
export type RunnerView = z.infer<typeof RunnerView>;

export const RunnerList = z.object({ runners: z.array(RunnerView) });
export type RunnerList = z.infer<typeof RunnerList>;

export const RUNNER_EVENT_TYPES = ['runner_connected', 'runner_disconnected', 'runner_heartbeat'] as const;
export const RunnerEvent = z.object({ type: z.enum(RUNNER_EVENT_TYPES), runner: RunnerView, timestamp: z.string() });
export type RunnerEvent = z.infer<typeof RunnerEvent>;
