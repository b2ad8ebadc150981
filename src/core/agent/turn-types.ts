import type { ConversationMessage, ToolCallPart } from '../../protocol/conversation.js';
import type { ToolContext, ToolExecutor } from '../../protocol/tools.js';
import type { TurnWriter } from './turn-writer.js';

// The shapes shared by the loop (agent-loop.ts) and the tool step (tool-calls.ts), kept apart from both so
// neither imports the other's types.

export type GateDecision = { allow: true } | { allow: false; reason: string };

/** Decides whether a tool call may run. Permissions and approvals plug in here. */
export type ToolGate = (call: ToolCallPart, signal: AbortSignal) => Promise<GateDecision>;

/**
 * Steered messages taken from the queue, and the queue state to persist with their delivery (with the
 * compare-and-set guard of the rows it replaces).
 */
export interface SteerBatch {
  items: Array<{ content: string; item_id: string }>;
  effects?: { state: Record<string, string | null>; expect_state?: Record<string, string | null> };
}

/**
 * Points where the session manager reaches into a running turn (steering, approvals, session tools).
 * The loop itself stays free of queue and permission logic.
 */
export interface TurnHooks {
  /**
   * Called before every model call: hands the user messages to inject into the turn (steering) to
   * `record`, which commits them; if it throws (the queue's compare-and-set met another writer), nothing
   * was recorded and the hook may take its queue again (fresh) and call `record` once more.
   */
  takeSteering?(record: (batch: SteerBatch) => Promise<void>): Promise<void>;
  /** True when steered messages wait: the turn goes on instead of ending. */
  hasSteering?(): boolean;
  /** Decides whether a tool call may run; may wait (for a person's approval). */
  gate?: ToolGate;
  /** Tools served by the session itself rather than the executor (`ask_user`). */
  sessionTools?: ToolExecutor;
}

export interface TurnInput {
  turnId: string;
  workingDir: string;
  /** Read before each step, so a model switch takes effect on the next step. */
  model(): string;
  system: string;
  maxIterations: number;
  /** The conversation so far, including the user message that started the turn. Mutated as the turn runs. */
  conversation: ConversationMessage[];
  signal: AbortSignal;
  writer: TurnWriter;
  hooks?: TurnHooks;
  /** Session totals, kept in step with the store (one writer per session), reported in `token_usage`. */
  totals: { input_tokens: number; output_tokens: number; cost: number };
  /** A message still to be written with the turn's last event (the partial text of an interrupted step). */
  carry?: ConversationMessage;
  /** The session's executor settings (sandbox, network, env), passed to every tool call. */
  toolContext?: Pick<ToolContext, 'sandbox' | 'network' | 'env'>;
}
