/**
 * The wire shapes the dashboard reads. Session shapes come from Tower's protocol (type-only imports:
 * nothing of zod is bundled); runner and thread shapes are declared here, after the hub, messaging and
 * runner protocols, so they are easy to adjust as those land.
 */
export type { Session, Permissions, SafetyPolicy } from '../../../src/protocol/session.js';
export type { WireEvent, EventType, ConfirmationDecision } from '../../../src/protocol/events.js';
export type {
  SessionList,
  ModelList,
  SessionStatusBody,
  QueueState,
  SnapshotBody,
  SessionExport,
  SendResult,
  CreateSessionBody,
} from '../../../src/protocol/api.js';

export interface ApiErrorBody {
  code: string;
  message: string;
}

export interface RunnerInfo {
  id: string;
  name?: string;
  labels: string[];
  online: boolean;
  status?: 'online' | 'offline';
  environment?: Record<string, unknown>;
  running_tasks?: number;
  last_heartbeat?: string;
  heartbeat?: { cpu?: number; memory?: number; disk?: number };
}

export interface RunnerToken {
  id: string;
  name?: string;
  created_at: string;
  revoked?: boolean;
  /** Only in the answer to its creation: shown once. */
  token?: string;
}

export type ThreadStatus = 'active' | 'paused' | 'resolved' | 'archived';

export interface Thread {
  id: string;
  title: string;
  status: ThreadStatus;
  last_seq: number;
  created_at: string;
  updated_at: string;
}

export interface ThreadMessage {
  id: string;
  thread_id: string;
  message_seq: number;
  created_at: string;
  from_type: string;
  from_id: string;
  to_type: string;
  to_id: string;
  kind: string;
  subject?: string;
  content: string;
  metadata?: Record<string, unknown>;
}

export interface InboxMessage {
  id: string;
  message_id: string;
  correlation_id?: string;
  from_agent: string;
  to_inbox: string;
  title: string;
  payload?: string;
  status: string;
  created_at: string;
  updated_at: string;
}
