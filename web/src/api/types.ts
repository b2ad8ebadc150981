/**
 * The wire shapes the dashboard reads. Session shapes come from Tower's protocol (type-only imports:
 * nothing of zod is bundled), as are runner and messaging shapes.
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
import type { RunnerTokenInfo, RunnerView } from '../../../src/protocol/runner-api.js';
export type { RunnerView } from '../../../src/protocol/runner-api.js';

export interface ApiErrorBody {
  code: string;
  message: string;
}

/** A runner as `GET /api/runners` and the hub's `runner` events show it; `online` is the page's flag. */
export type RunnerInfo = RunnerView & { online: boolean };

/** A runner token as listed; `token` only in the answer to its creation (shown once). */
export type RunnerToken = RunnerTokenInfo & { token?: string };

export type { Thread, ThreadMessage, InboxMessage, ThreadStatus } from '../../../src/protocol/messaging.js';
export type { SessionChange, Telemetry, TaskStream } from '../../../src/protocol/telemetry.js';
