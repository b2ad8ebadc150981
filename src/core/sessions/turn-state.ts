import type { ConfirmationDecision, ElicitationAction } from '../../protocol/events.js';
import type { Permissions, SessionSettings } from '../../protocol/session.js';
import { PendingRequests } from '../elicitation/index.js';
import type { ToolCategory } from '../permissions/index.js';
import type { RunningTurn } from './active-sessions.js';
import type { QueueSet } from './queues.js';

export interface ConfirmationAnswer {
  decision: ConfirmationDecision;
  reason?: string;
}

export interface ElicitationAnswer {
  action: ElicitationAction;
  content?: Record<string, unknown>;
}

export interface ConfirmationInfo {
  tool_call_id: string;
  tool: string;
  args: unknown;
}

export interface ElicitationInfo {
  elicitation_id: string;
  message: string;
  schema?: Record<string, unknown>;
}

/** Everything a running turn holds that commands from clients reach into. */
export interface TurnState extends RunningTurn {
  sessionId: string;
  /** Read at each model step, so a switch applies from the next step. */
  model: string;
  /** The live copy of the session's permissions (approvals change it mid-turn). */
  permissions: Permissions;
  /** The session's executor settings, read at each tool call (a PATCH applies from the next call). */
  toolContext: SessionSettings;
  queues: QueueSet;
  /** Categories of this turn's own tools for the permission gate (MCP tools annotated read-only). */
  toolCategories?: Record<string, ToolCategory>;
  confirmations: PendingRequests<ConfirmationInfo, ConfirmationAnswer>;
  elicitations: PendingRequests<ElicitationInfo, ElicitationAnswer>;
  /**
   * Set when a send interrupts this turn to take its place: the queue must not start another turn in
   * between (it drains again after the replacing turn).
   */
  replaced: boolean;
}
