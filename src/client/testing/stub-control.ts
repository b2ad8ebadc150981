import type { QueueItem, Session } from '../../protocol/index.js';

/**
 * The control side of the stub Tower: queues, pending confirmations and questions, and the routes that
 * reach into a running turn (steer, follow-up, interrupt, answers, model switch, status). Turns themselves
 * run in `StubTower`, which this module drives through `StubHost`.
 */

/** An event's own fields, without the envelope the stub adds (seq, session_id, timestamp). */
export type StubEvent = { type: string } & Record<string, unknown>;

export const STUB_STEER_CAPACITY = 5;
export const STUB_FOLLOWUP_CAPACITY = 20;

export interface RunningTurn {
  id: string;
  /** Set while the turn's script waits at a `$hold`: calling it goes on. */
  release?: () => void;
}

interface PendingRequest {
  fields: Record<string, unknown>;
  requested_at: string;
  answered: boolean;
}

export interface ControlState {
  turn: RunningTurn | undefined;
  steer: QueueItem[];
  followup: QueueItem[];
  keys: Set<string>;
  confirmations: Map<string, PendingRequest>;
  elicitations: Map<string, PendingRequest>;
  /** Resolved when the running turn ends (for `status?wait=`). */
  idleWaiters: Set<() => void>;
}

export function newControlState(): ControlState {
  return {
    turn: undefined,
    steer: [],
    followup: [],
    keys: new Set(),
    confirmations: new Map(),
    elicitations: new Map(),
    idleWaiters: new Set(),
  };
}

/** What the control routes need from the stub server. */
export interface StubHost {
  readonly models: string[];
  append(sessionId: string, event: StubEvent): number;
  /** Writes the user message and runs the turn script; the session must be idle. */
  startTurn(sessionId: string, content: string, queueItemId?: string): { seq: number; turn_id: string };
}

export interface ControlEntry {
  session: Session;
  control: ControlState;
}

export interface StubReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const TIMESTAMP = '2025-01-01T00:00:00.000Z';
let nextItem = 1;

function error(status: number, code: string, message: string, headers?: Record<string, string>): StubReply {
  return { status, body: { code, message }, headers };
}

/** Records the confirmations and questions a turn script asks, so the answer routes find them. */
export function trackRequest(control: ControlState, event: StubEvent): void {
  if (event.type === 'tool_call_confirmation') {
    const { type: _type, ...fields } = event;
    control.confirmations.set(String(event.tool_call_id), { fields, requested_at: TIMESTAMP, answered: false });
  }
  if (event.type === 'elicitation_request') {
    const { type: _type, ...fields } = event;
    control.elicitations.set(String(event.elicitation_id), { fields, requested_at: TIMESTAMP, answered: false });
  }
}

/** A turn ended: nothing is pending any more, waiters of `status?wait=` go on. */
export function turnEnded(control: ControlState): void {
  const release = control.turn?.release;
  control.turn = undefined;
  control.confirmations.clear();
  control.elicitations.clear();
  release?.();
  for (const waiter of control.idleWaiters) waiter();
  control.idleWaiters.clear();
}

/** Starts the next queued follow-up when the session is idle, as the real server does after a turn. */
export function drainFollowup(host: StubHost, entry: ControlEntry): void {
  const next = entry.control.turn === undefined ? entry.control.followup.shift() : undefined;
  if (next) host.startTurn(entry.session.id, next.content, next.item_id);
}

function enqueue(host: StubHost, entry: ControlEntry, queue: 'steer' | 'followup', contents: string[]): string[] {
  const items = contents.map((content) => ({ item_id: `q_${nextItem++}`, content, queued_at: TIMESTAMP }));
  for (const item of items) {
    entry.control[queue].push(item);
    const depth = entry.control[queue].length;
    host.append(entry.session.id, { type: 'message_queued', queue, item_id: item.item_id, content: item.content, depth });
  }
  return items.map((item) => item.item_id);
}

function contentsOf(body: unknown): string[] {
  return ((body as { messages?: Array<{ content: string }> } | undefined)?.messages ?? []).map((m) => m.content);
}

/** Queues follow-ups; when idle the first starts at once. */
export function followup(host: StubHost, entry: ControlEntry, contents: string[], key: string | undefined): StubReply {
  const { control } = entry;
  if (key !== undefined && control.keys.has(key)) {
    return { status: 202, body: { status: 'duplicate', item_ids: [], depth: control.followup.length } };
  }
  if (control.followup.length + contents.length > STUB_FOLLOWUP_CAPACITY) {
    return error(429, 'followup_queue_full', `The follow-up queue holds ${STUB_FOLLOWUP_CAPACITY} messages`, { 'retry-after': '1' });
  }
  if (key !== undefined) control.keys.add(key);
  const streaming = control.turn !== undefined;
  const itemIds = enqueue(host, entry, 'followup', contents);
  drainFollowup(host, entry);
  const status = streaming ? 'queued_streaming' : 'queued_idle';
  return { status: 202, body: { status, item_ids: itemIds, depth: control.followup.length } };
}

/** Stops the running turn (`stream_stopped` canceled); with `clearQueue` first drops both queues. */
export function interrupt(host: StubHost, entry: ControlEntry, clearQueue: boolean): StubReply {
  const { control } = entry;
  const id = entry.session.id;
  if (clearQueue) {
    for (const queue of ['steer', 'followup'] as const) {
      const removed = control[queue].splice(0);
      if (removed.length > 0) host.append(id, { type: 'queue_cleared', queue, item_ids: removed.map((item) => item.item_id) });
    }
  }
  const turn = control.turn;
  if (!turn) return { status: 200, body: { interrupted: false } };
  host.append(id, { type: 'stream_stopped', turn_id: turn.id, reason: 'canceled' });
  return { status: 200, body: { interrupted: true, turn_id: turn.id } };
}

/** After the last pending request of a held turn is answered, the turn goes on. */
function answered(entry: ControlEntry): void {
  const { control } = entry;
  const waiting = [...control.confirmations.values(), ...control.elicitations.values()].some((p) => !p.answered);
  if (!waiting) control.turn?.release?.();
}

function confirm(host: StubHost, entry: ControlEntry, toolCallId: string, body: unknown): StubReply {
  const pending = entry.control.confirmations.get(toolCallId);
  if (!pending) return error(404, 'not_found', `No pending confirmation with tool_call_id "${toolCallId}"`);
  if (pending.answered) return error(409, 'conflict', `Confirmation "${toolCallId}" was already answered`);
  pending.answered = true;
  host.append(entry.session.id, { type: 'tool_call_confirmed', tool_call_id: toolCallId, ...(body as Record<string, unknown>) });
  answered(entry);
  return { status: 200, body: { resolved: true } };
}

function answerElicitation(host: StubHost, entry: ControlEntry, elicitationId: string, body: unknown): StubReply {
  const pending = entry.control.elicitations.get(elicitationId);
  if (!pending) return error(404, 'not_found', `No pending question with elicitation_id "${elicitationId}"`);
  if (pending.answered) return error(409, 'conflict', `Question "${elicitationId}" was already answered`);
  const { action, content } = body as { action: string; content?: Record<string, unknown> };
  const schema = pending.fields.schema as { required?: string[] } | undefined;
  const missing = action === 'accept' ? (schema?.required ?? []).filter((key) => content?.[key] === undefined) : [];
  if (missing.length > 0) {
    return error(400, 'invalid_request', `The answer does not match the question's schema: missing ${missing.join(', ')}`);
  }
  pending.answered = true;
  host.append(entry.session.id, { type: 'elicitation_resolved', elicitation_id: elicitationId, action });
  answered(entry);
  return { status: 200, body: { resolved: true } };
}

/** `PATCH /api/sessions/:id` (and its `/title`, `/starred` forms): the events the real server appends. */
export function updateSession(host: StubHost, entry: ControlEntry, body: unknown): StubReply {
  const { session } = entry;
  const patch = (body ?? {}) as { title?: string; starred?: boolean; model?: string };
  if (patch.model !== undefined && !host.models.includes(patch.model)) {
    return error(422, 'unknown_model', `Unknown model "${patch.model}"`);
  }
  const changed = {
    ...(patch.title !== undefined ? { title: patch.title } : {}),
    ...(patch.starred !== undefined ? { starred: patch.starred } : {}),
  };
  Object.assign(session, changed);
  if (Object.keys(changed).length > 0) host.append(session.id, { type: 'session_updated', ...changed });
  if (patch.model !== undefined && patch.model !== session.model) {
    const previous = session.model;
    session.model = patch.model;
    host.append(session.id, { type: 'model_changed', model: patch.model, previous });
  }
  return { status: 200, body: session };
}

function status(entry: ControlEntry): StubReply {
  const { session, control } = entry;
  const pending = (map: Map<string, PendingRequest>) =>
    [...map.values()].filter((p) => !p.answered).map((p) => ({ ...p.fields, requested_at: p.requested_at }));
  return {
    status: 200,
    body: {
      session_id: session.id,
      status: control.turn ? 'running' : 'idle',
      ...(control.turn ? { turn_id: control.turn.id } : {}),
      model: session.model,
      last_event_seq: session.last_event_seq,
      pending_confirmations: pending(control.confirmations),
      pending_elicitations: pending(control.elicitations),
      queue: { steer: control.steer.length, followup: control.followup.length },
    },
  };
}

/** `?wait=10s` / `500ms` / `1m` / `10` as milliseconds. */
function waitMs(value: string | null): number {
  if (value === null) return 0;
  const n = Number.parseInt(value, 10);
  return value.endsWith('ms') ? n : value.endsWith('m') ? n * 60_000 : n * 1000;
}

async function waitIdle(control: ControlState, ms: number): Promise<void> {
  if (!control.turn || ms <= 0) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      control.idleWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    control.idleWaiters.add(done);
  });
}

export interface ControlRequest {
  method: string;
  /** The path segments after `/api/sessions/:id`. */
  segments: string[];
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Answers a control route, or returns undefined when the request is not one. */
export async function controlRoute(host: StubHost, entry: ControlEntry, req: ControlRequest): Promise<StubReply | undefined> {
  const { control } = entry;
  const [route = '', param] = req.segments;
  switch (`${req.method} ${route}`) {
    case 'POST steer': {
      const contents = contentsOf(req.body);
      if (!control.turn) return error(409, 'session_idle', 'No turn is running: send the message instead of steering');
      if (control.steer.length + contents.length > STUB_STEER_CAPACITY) {
        return error(429, 'steer_queue_full', `The steer queue holds ${STUB_STEER_CAPACITY} messages`, { 'retry-after': '1' });
      }
      return { status: 202, body: { item_ids: enqueue(host, entry, 'steer', contents), depth: control.steer.length } };
    }
    case 'POST followup': {
      const key = req.headers['idempotency-key'];
      return followup(host, entry, contentsOf(req.body), typeof key === 'string' ? key : undefined);
    }
    case 'GET queue':
      return {
        status: 200,
        body: {
          steer: { depth: control.steer.length, capacity: STUB_STEER_CAPACITY, items: control.steer },
          followup: { depth: control.followup.length, capacity: STUB_FOLLOWUP_CAPACITY, items: control.followup },
        },
      };
    case 'POST interrupt':
      return interrupt(host, entry, (req.body as { clear_queue?: boolean } | undefined)?.clear_queue === true);
    case 'POST confirmations':
      return confirm(host, entry, param ?? '', req.body);
    case 'POST elicitations':
      return answerElicitation(host, entry, param ?? '', req.body);
    case 'POST tools': {
      if (param !== 'toggle') return undefined;
      const permissions = { ...entry.session.permissions, auto_approve: !entry.session.permissions.auto_approve };
      entry.session.permissions = permissions;
      host.append(entry.session.id, { type: 'permissions_changed', permissions });
      return { status: 200, body: { auto_approve: permissions.auto_approve } };
    }
    case 'PATCH title':
    case 'PATCH starred':
      return updateSession(host, entry, req.body);
    case 'GET models': {
      const current = entry.session.model;
      const models = host.models.map((id) => {
        const [provider = '', ...name] = id.split('/');
        return { id, provider, name: name.join('/'), current: id === current };
      });
      return { status: 200, body: { current, models } };
    }
    case 'GET status':
      await waitIdle(control, waitMs(req.query.get('wait')));
      return status(entry);
    default:
      return undefined;
  }
}
