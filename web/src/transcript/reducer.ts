import type { WireEvent } from '../api/types.js';
import type { Item, QueuedItem, UsagePoint } from './items.js';

/**
 * The transcript is a pure fold of a session's events in seq order. Events that arrive early wait in
 * `buffered` until the gap before them fills; an event at or below `applied`, or already buffered, is
 * a duplicate and changes nothing. So a reconnect (resume from `applied`) or a reload (replay from 0)
 * can neither duplicate nor lose a line.
 */
export interface TranscriptState {
  sessionId: string;
  /** Highest seq folded: everything from 1 to here, with no hole. */
  applied: number;
  buffered: ReadonlyMap<number, WireEvent>;
  items: readonly Item[];
  streaming: boolean;
  turnId?: string;
  title?: string;
  model?: string;
  pendingConfirmations: readonly string[];
  pendingQuestions: readonly string[];
  queues: { steer: readonly QueuedItem[]; followup: readonly QueuedItem[] };
  totals: { input: number; output: number; cost: number };
  usage: readonly UsagePoint[];
  deleted: boolean;
  /** Open item indexes while a step streams (text and reasoning grow in place). */
  openText?: number;
  openReasoning?: number;
  /** Where the current model step began (ms), for tokens per second. */
  stepStartedAt?: number;
  toolIndex: Readonly<Record<string, number>>;
  questionIndex: Readonly<Record<string, number>>;
}

export function initialTranscript(sessionId: string): TranscriptState {
  return {
    sessionId,
    applied: 0,
    buffered: new Map(),
    items: [],
    streaming: false,
    pendingConfirmations: [],
    pendingQuestions: [],
    queues: { steer: [], followup: [] },
    totals: { input: 0, output: 0, cost: 0 },
    usage: [],
    deleted: false,
    toolIndex: {},
    questionIndex: {},
  };
}

/** True while an event after a hole waits: the live client should re-read from `applied`. */
export const hasGap = (s: TranscriptState): boolean => s.buffered.size > 0;

type Draft = Omit<TranscriptState, 'items' | 'buffered' | 'pendingConfirmations' | 'pendingQuestions' | 'queues' | 'usage' | 'toolIndex' | 'questionIndex'> & {
  items: Item[];
  buffered: Map<number, WireEvent>;
  pendingConfirmations: string[];
  pendingQuestions: string[];
  queues: { steer: QueuedItem[]; followup: QueuedItem[] };
  usage: UsagePoint[];
  toolIndex: Record<string, number>;
  questionIndex: Record<string, number>;
};

/** Folds a batch of events (any order, duplicates allowed) into a new state; `state` is not changed. */
export function applyEvents(state: TranscriptState, events: readonly WireEvent[]): TranscriptState {
  const fresh = events.filter((e) => e.session_id === state.sessionId && Number.isSafeInteger(e.seq) && e.seq > state.applied && !state.buffered.has(e.seq));
  if (fresh.length === 0) return state;
  const d: Draft = {
    ...state,
    items: [...state.items],
    buffered: new Map(state.buffered),
    pendingConfirmations: [...state.pendingConfirmations],
    pendingQuestions: [...state.pendingQuestions],
    queues: { steer: [...state.queues.steer], followup: [...state.queues.followup] },
    usage: [...state.usage],
    toolIndex: { ...state.toolIndex },
    questionIndex: { ...state.questionIndex },
  };
  for (const e of fresh) d.buffered.set(e.seq, e);
  for (let next = d.buffered.get(d.applied + 1); next; next = d.buffered.get(d.applied + 1)) {
    d.buffered.delete(next.seq);
    d.applied = next.seq;
    fold(d, next);
  }
  return d;
}

export const applyEvent = (state: TranscriptState, event: WireEvent): TranscriptState => applyEvents(state, [event]);

const base = (e: WireEvent) => ({ key: `e${e.seq}`, seq: e.seq, timestamp: e.timestamp });
const ms = (iso: string): number => Date.parse(iso) || 0;

function closeStep(d: Draft): void {
  d.openText = undefined;
  d.openReasoning = undefined;
}

function updateTool(d: Draft, id: string, patch: (it: Extract<Item, { kind: 'tool' }>) => Item): void {
  const i = d.toolIndex[id];
  const it = i === undefined ? undefined : d.items[i];
  if (i !== undefined && it?.kind === 'tool') d.items[i] = patch(it);
}

const without = (list: string[], id: string): string[] => list.filter((x) => x !== id);

function fold(d: Draft, e: WireEvent): void {
  switch (e.type) {
    case 'session_created':
      d.title = e.title;
      d.model = e.model;
      return;
    case 'user_message': {
      closeStep(d);
      if (e.queue_item_id) {
        d.queues.steer = d.queues.steer.filter((q) => q.itemId !== e.queue_item_id);
        d.queues.followup = d.queues.followup.filter((q) => q.itemId !== e.queue_item_id);
      }
      d.items.push({ ...base(e), kind: 'user', content: e.content, messageIndex: e.message_index, steered: e.steered === true });
      d.stepStartedAt = ms(e.timestamp);
      return;
    }
    case 'stream_started':
      d.streaming = true;
      d.turnId = e.turn_id;
      d.model = e.model;
      d.stepStartedAt = ms(e.timestamp);
      return;
    case 'agent_choice': {
      d.openReasoning = undefined;
      const open = d.openText === undefined ? undefined : d.items[d.openText];
      if (open?.kind === 'text' && d.openText !== undefined) d.items[d.openText] = { ...open, content: open.content + e.content };
      else {
        d.openText = d.items.length;
        d.items.push({ ...base(e), kind: 'text', content: e.content });
      }
      return;
    }
    case 'agent_choice_reasoning': {
      const open = d.openReasoning === undefined ? undefined : d.items[d.openReasoning];
      if (open?.kind === 'reasoning' && d.openReasoning !== undefined) d.items[d.openReasoning] = { ...open, content: open.content + e.content };
      else {
        d.openReasoning = d.items.length;
        d.items.push({ ...base(e), kind: 'reasoning', content: e.content });
      }
      return;
    }
    case 'tool_call': {
      closeStep(d);
      if (d.toolIndex[e.tool_call_id] !== undefined) return;
      d.toolIndex[e.tool_call_id] = d.items.length;
      const runner = runnerOf(e);
      d.items.push({ ...base(e), kind: 'tool', toolCallId: e.tool_call_id, tool: e.tool, args: e.args, output: '', ...(runner ? { runner } : {}) });
      return;
    }
    case 'tool_call_confirmation':
      if (!d.pendingConfirmations.includes(e.tool_call_id)) d.pendingConfirmations.push(e.tool_call_id);
      updateTool(d, e.tool_call_id, (it) => ({ ...it, confirmation: 'pending' }));
      return;
    case 'tool_call_confirmed':
      d.pendingConfirmations = without(d.pendingConfirmations, e.tool_call_id);
      updateTool(d, e.tool_call_id, (it) => ({ ...it, confirmation: e.decision, ...(e.reason ? { reason: e.reason } : {}) }));
      return;
    case 'tool_call_output':
      updateTool(d, e.tool_call_id, (it) => ({ ...it, output: it.output + e.data }));
      return;
    case 'tool_call_response': {
      d.pendingConfirmations = without(d.pendingConfirmations, e.tool_call_id);
      const runner = runnerOf(e);
      updateTool(d, e.tool_call_id, (it) => ({ ...it, result: e.result, isError: e.is_error, ...(runner ? { runner } : {}) }));
      d.stepStartedAt = ms(e.timestamp);
      return;
    }
    case 'token_usage': {
      closeStep(d);
      const t = ms(e.timestamp);
      const seconds = d.stepStartedAt !== undefined ? (t - d.stepStartedAt) / 1000 : 0;
      const tokensPerSecond = seconds > 0 ? e.output_tokens / seconds : undefined;
      d.items.push({
        ...base(e),
        kind: 'usage',
        model: e.model,
        input: e.input_tokens,
        output: e.output_tokens,
        cached: e.cached_input_tokens,
        cost: e.cost,
        totalCost: e.total_cost,
        ...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
      });
      d.totals = { input: e.total_input_tokens, output: e.total_output_tokens, cost: e.total_cost };
      d.usage.push({ t: t / 1000, tokensPerSecond: tokensPerSecond ?? 0, totalCost: e.total_cost, outputTokens: e.output_tokens });
      d.stepStartedAt = t;
      return;
    }
    case 'session_title':
      d.title = e.title;
      return;
    case 'session_updated':
      if (e.title !== undefined) d.title = e.title;
      if (e.model !== undefined) d.model = e.model;
      return;
    case 'error':
      closeStep(d);
      d.items.push({ ...base(e), kind: 'error', code: e.code, message: e.message });
      return;
    case 'stream_stopped':
      closeStep(d);
      d.streaming = false;
      d.turnId = undefined;
      if (e.reason !== 'normal') d.items.push({ ...base(e), kind: 'notice', text: `Turn stopped: ${e.reason.replace('_', ' ')}` });
      return;
    case 'message_queued':
      d.queues[e.queue].push({ itemId: e.item_id, content: e.content });
      return;
    case 'queue_cleared':
      d.queues[e.queue] = d.queues[e.queue].filter((q) => !e.item_ids.includes(q.itemId));
      return;
    case 'elicitation_request':
      if (d.questionIndex[e.elicitation_id] !== undefined) return;
      d.questionIndex[e.elicitation_id] = d.items.length;
      d.pendingQuestions.push(e.elicitation_id);
      d.items.push({ ...base(e), kind: 'question', elicitationId: e.elicitation_id, message: e.message, ...(e.schema ? { schema: e.schema } : {}) });
      return;
    case 'elicitation_resolved': {
      d.pendingQuestions = without(d.pendingQuestions, e.elicitation_id);
      const i = d.questionIndex[e.elicitation_id];
      const it = i === undefined ? undefined : d.items[i];
      if (i !== undefined && it?.kind === 'question') d.items[i] = { ...it, action: e.action };
      return;
    }
    case 'model_changed':
      d.model = e.model;
      d.items.push({ ...base(e), kind: 'notice', text: `Model changed from ${e.previous} to ${e.model}` });
      return;
    case 'permissions_changed':
      d.items.push({ ...base(e), kind: 'notice', text: `Permissions: ${e.permissions.policy}${e.permissions.auto_approve ? ', auto-approve on' : ''}` });
      return;
    case 'session_forked':
      d.items.push({ ...base(e), kind: 'notice', text: `Forked from ${e.from_session_id} at message ${e.message_index}` });
      return;
    case 'session_deleted':
      d.deleted = true;
      return;
  }
}

type ToolEvent = Extract<WireEvent, { type: 'tool_call' | 'tool_call_response' }>;

/** Remote runners tag tool events with `runner: {id, name}` (issue 11); absent when the call ran locally. */
function runnerOf(e: ToolEvent): string | undefined {
  return e.runner ? e.runner.name || e.runner.id : undefined;
}
