/** Limits and timings of the hub (seed 001's constants, enforced; tests shrink the timings). */
export interface HubOptions {
  /** Bearer token; unset means every connection is authenticated (loopback deployments). */
  token?: string;
  /** Origins allowed besides the server's own (e.g. "https://dash.example.com"). */
  allowedOrigins: readonly string[];
  maxFrameBytes: number;
  framesPerSecond: number;
  /** Unsent frames after which a connection stops taking live frames and catches up from the store. */
  backlogLimit: number;
  /** Broadcast frames (task_stream, inbox_message) kept for a reader past its backlog before it is disconnected. */
  broadcastBacklogLimit: number;
  writeWaitMs: number;
  pingMs: number;
  pongWaitMs: number;
  authTimeoutMs: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = {
  allowedOrigins: [],
  maxFrameBytes: 10 * 1024,
  framesPerSecond: 100,
  backlogLimit: 1000,
  broadcastBacklogLimit: 10_000,
  writeWaitMs: 10_000,
  pingMs: 54_000,
  pongWaitMs: 60_000,
  authTimeoutMs: 10_000,
};

/** Hub command ops (seed-style short names) and the command each one runs. */
export const COMMAND_OPS = {
  send: 'sessions.send',
  steer: 'sessions.steer',
  follow_up: 'sessions.follow_up',
  interrupt: 'sessions.interrupt',
  confirm: 'confirmations.answer',
  answer: 'elicitations.answer',
  set_model: 'sessions.set_model',
} as const;
