import { z } from 'zod';
import {
  BatchDeleteResult,
  BatchExportResult,
  DeleteResult,
  FollowupAccepted,
  InterruptResult,
  MessageList,
  ModelList,
  QueueState,
  ResolvedResult,
  SendMessageAccepted,
  SendResult,
  Session,
  SessionExport,
  SessionList,
  SessionModels,
  SessionStatusBody,
  SnapshotBody,
  SteerAccepted,
  ToggleResult,
  type ConfirmationDecision,
  type CreateSessionBody,
  type ElicitationAction,
  type OnBusy,
  type UpdateSessionBody,
} from '../protocol/index.js';
import { followEvents, type EventStreamOptions } from './event-stream.js';
import { followSentTurn } from './follow-turn.js';
import { HttpTransport, type HttpOptions } from './http.js';
import type { TowerEvent } from './tower-event.js';

export type TowerClientOptions = HttpOptions;

export interface ListSessionsOptions {
  /** Page size, 1..200 (server default 50). */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  signal?: AbortSignal;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type FollowOptions = Omit<EventStreamOptions, 'since'>;

export interface ImportOptions extends CallOptions {
  /** Import under a new session id (`POST /api/sessions/import?as_new=true`). */
  asNew?: boolean;
}

export interface SendOptions extends CallOptions {
  /**
   * What the server does when a turn is already running: `reject` (the default: `TowerApiError` with code
   * `session_busy`), `enqueue` (queue the message as a follow-up) or `interrupt` (stop the turn, then start).
   */
  onBusy?: OnBusy;
}

export interface SendAndFollowOptions extends FollowOptions {
  onBusy?: OnBusy;
}

export interface FollowupOptions extends CallOptions {
  /** Sent as `Idempotency-Key`: a retry with the same key is answered `duplicate` instead of queuing twice. */
  idempotencyKey?: string;
}

export interface InterruptOptions extends CallOptions {
  /** Also drop the queued steers and follow-ups. */
  clearQueue?: boolean;
}

export interface StatusOptions extends CallOptions {
  /** Wait up to this long (the server allows at most 60 000 ms) for the running turn to end first. */
  waitMs?: number;
}

/** What an approval covers: this call, every later call of the same tool, or every call of the session. */
export type ApprovalScope = 'call' | 'tool' | 'session';

const APPROVAL_DECISIONS: Record<ApprovalScope, ConfirmationDecision> = {
  call: 'approve',
  tool: 'approve_tool',
  session: 'approve_session',
};

/** The answer to a confirmation or a question: `{ resolved: true }`. */
export type Resolved = z.infer<typeof ResolvedResult>;
/** The auto-approve setting after a toggle. */
export type AutoApproveState = z.infer<typeof ToggleResult>;

/** True when a send was queued as a follow-up (`onBusy: 'enqueue'` while busy) rather than starting a turn. */
export function isQueued(result: SendResult): result is FollowupAccepted {
  return !('seq' in result);
}

const HealthBody = z.object({ status: z.string() });
export type HealthBody = z.infer<typeof HealthBody>;

/**
 * Typed client of Tower's HTTP API. Every response is validated against the protocol schemas; a non-2xx
 * answer throws `TowerApiError`, an unreachable server `TowerConnectionError`.
 */
export class TowerClient {
  private readonly http: HttpTransport;

  constructor(options: TowerClientOptions) {
    this.http = new HttpTransport(options);
  }

  /** The base URL requests go to (normalised, no trailing slash). */
  get url(): string {
    return this.http.baseUrl;
  }

  /** `GET /health`: resolves when the server is up. */
  health(options: CallOptions = {}): Promise<HealthBody> {
    return this.http.json('GET', '/health', HealthBody, options);
  }

  /** Creates a session; every field is optional (server defaults for model and working dir). */
  createSession(body: CreateSessionBody = {}, options: CallOptions = {}): Promise<Session> {
    return this.http.json('POST', '/api/sessions', Session, { ...options, body });
  }

  /** One page of sessions, newest first; pass `next_cursor` back as `cursor` for the next page. */
  listSessions(options: ListSessionsOptions = {}): Promise<SessionList> {
    const { limit, cursor, signal } = options;
    return this.http.json('GET', '/api/sessions', SessionList, { query: { limit, cursor }, signal });
  }

  /** One session by id; `TowerApiError` with code `unknown_session` when there is none. */
  getSession(id: string, options: CallOptions = {}): Promise<Session> {
    return this.http.json('GET', sessionPath(id), Session, options);
  }

  /** Changes title, starred, model or permissions; returns the updated session. */
  updateSession(id: string, body: UpdateSessionBody, options: CallOptions = {}): Promise<Session> {
    return this.http.json('PATCH', sessionPath(id), Session, { ...options, body });
  }

  /** Deletes a session and its log; followers of its events get a final `session_deleted`. */
  deleteSession(id: string, options: CallOptions = {}): Promise<z.infer<typeof DeleteResult>> {
    return this.http.json('DELETE', sessionPath(id), DeleteResult, options);
  }

  /** Session, conversation, whether a turn is streaming, and the `last_event_seq` to tail from. */
  snapshot(id: string, options: CallOptions = {}): Promise<SnapshotBody> {
    return this.http.json('GET', `${sessionPath(id)}/snapshot`, SnapshotBody, options);
  }

  /** The stored conversation of a session. */
  messages(id: string, options: CallOptions = {}): Promise<MessageList> {
    return this.http.json('GET', `${sessionPath(id)}/messages`, MessageList, options);
  }

  /**
   * Sends a user message. Without `onBusy` (or with `reject` or `interrupt`) it starts a turn and resolves
   * with the seq of its `user_message` event; while another turn runs, `reject` throws `TowerApiError` with
   * code `session_busy`. With `onBusy: 'enqueue'` the answer is a `FollowupAccepted` when the message was
   * queued behind the running turn (`isQueued` tells them apart).
   */
  send(id: string, content: string, options?: CallOptions & { onBusy?: Exclude<OnBusy, 'enqueue'> }): Promise<SendMessageAccepted>;
  send(id: string, content: string, options: SendOptions): Promise<SendResult>;
  send(id: string, content: string, options: SendOptions = {}): Promise<SendResult> {
    const { onBusy, signal } = options;
    const body = onBusy === undefined ? { content } : { content, on_busy: onBusy };
    const schema = onBusy === 'enqueue' ? SendResult : SendMessageAccepted;
    return this.http.json('POST', `${sessionPath(id)}/messages`, schema, { signal, body });
  }

  /**
   * Injects messages into the running turn: the model sees them before its next call. Throws
   * `TowerApiError` with code `session_idle` when no turn runs (send instead), `steer_queue_full` (429,
   * see `retryAfterSeconds`) when the queue has no room.
   */
  steer(id: string, contents: string | string[], options: CallOptions = {}): Promise<SteerAccepted> {
    return this.http.json('POST', `${sessionPath(id)}/steer`, SteerAccepted, { ...options, body: messagesBody(contents) });
  }

  /**
   * Queues messages that each start a turn of their own once the current one ends (at once when idle).
   * Throws `TowerApiError` with code `followup_queue_full` (429) when the queue has no room.
   */
  followup(id: string, contents: string | string[], options: FollowupOptions = {}): Promise<FollowupAccepted> {
    const { idempotencyKey, signal } = options;
    const headers = idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey };
    return this.http.json('POST', `${sessionPath(id)}/followup`, FollowupAccepted, { signal, headers, body: messagesBody(contents) });
  }

  /** Depth, capacity and items of the steer and follow-up queues. */
  queue(id: string, options: CallOptions = {}): Promise<QueueState> {
    return this.http.json('GET', `${sessionPath(id)}/queue`, QueueState, options);
  }

  /**
   * Stops the running turn and resolves once the session is ready again; `{ interrupted: false }` when
   * nothing was running. Queued follow-ups stay (they wait for the next send) unless `clearQueue`.
   */
  interrupt(id: string, options: InterruptOptions = {}): Promise<InterruptResult> {
    const { clearQueue, signal } = options;
    const body = clearQueue === undefined ? {} : { clear_queue: clearQueue };
    return this.http.json('POST', `${sessionPath(id)}/interrupt`, InterruptResult, { signal, body });
  }

  /**
   * Answers a pending tool-call confirmation. Throws `TowerApiError` with code `not_found` when no such
   * call waits, `conflict` when it was answered already.
   */
  confirm(id: string, toolCallId: string, decision: ConfirmationDecision, reason?: string, options: CallOptions = {}): Promise<Resolved> {
    const body = reason === undefined ? { decision } : { decision, reason };
    const path = `${sessionPath(id)}/confirmations/${encodeURIComponent(toolCallId)}`;
    return this.http.json('POST', path, ResolvedResult, { ...options, body });
  }

  /** Approves a pending tool call: just this one (default), or also later calls of its tool or the session's. */
  approve(id: string, toolCallId: string, scope: ApprovalScope = 'call', options: CallOptions = {}): Promise<Resolved> {
    return this.confirm(id, toolCallId, APPROVAL_DECISIONS[scope], undefined, options);
  }

  /** Rejects a pending tool call; the model receives the reason. */
  reject(id: string, toolCallId: string, reason?: string, options: CallOptions = {}): Promise<Resolved> {
    return this.confirm(id, toolCallId, 'reject', reason, options);
  }

  /** Flips the session's auto-approve (every call no deny rule stops runs without asking). */
  toggleAutoApprove(id: string, options: CallOptions = {}): Promise<AutoApproveState> {
    return this.http.json('POST', `${sessionPath(id)}/tools/toggle`, ToggleResult, options);
  }

  /**
   * Answers a question the agent asked (`elicitation_request`). `content` goes with `accept` and must match
   * the question's schema, else `TowerApiError` with code `invalid_request`; `not_found` and `conflict` as
   * for `confirm`.
   */
  answerElicitation(
    id: string,
    elicitationId: string,
    action: ElicitationAction,
    content?: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<Resolved> {
    const body = content === undefined ? { action } : { action, content };
    const path = `${sessionPath(id)}/elicitations/${encodeURIComponent(elicitationId)}`;
    return this.http.json('POST', path, ResolvedResult, { ...options, body });
  }

  /**
   * Switches the session's model (a running turn uses it from its next step; the log gets
   * `model_changed`). Throws `TowerApiError` with code `unknown_model` for a model Tower does not serve.
   */
  setModel(id: string, model: string, options: CallOptions = {}): Promise<Session> {
    return this.updateSession(id, { model }, options);
  }

  /** The models this session can switch to, the current one marked. */
  sessionModels(id: string, options: CallOptions = {}): Promise<SessionModels> {
    return this.http.json('GET', `${sessionPath(id)}/models`, SessionModels, options);
  }

  /** Renames a session; returns the updated session. */
  rename(id: string, title: string, options: CallOptions = {}): Promise<Session> {
    return this.http.json('PATCH', `${sessionPath(id)}/title`, Session, { ...options, body: { title } });
  }

  /** Stars (or with `false` unstars) a session; returns the updated session. */
  star(id: string, starred = true, options: CallOptions = {}): Promise<Session> {
    return this.http.json('PATCH', `${sessionPath(id)}/starred`, Session, { ...options, body: { starred } });
  }

  /**
   * The session's live state: running or idle, pending confirmations and questions, queue depths. With
   * `waitMs`, the server first waits (up to that long) for the running turn to end.
   */
  status(id: string, options: StatusOptions = {}): Promise<SessionStatusBody> {
    const { waitMs, signal } = options;
    const wait = waitMs === undefined ? undefined : `${Math.max(0, Math.round(waitMs))}ms`;
    return this.http.json('GET', `${sessionPath(id)}/status`, SessionStatusBody, { signal, query: { wait } });
  }

  /** A new session holding the conversation up to (not including) `messageIndex`. */
  fork(id: string, messageIndex: number, options: CallOptions = {}): Promise<Session> {
    return this.http.json('POST', `${sessionPath(id)}/fork`, Session, { ...options, body: { message_index: messageIndex } });
  }

  /** The session with its conversation and full event log, as `importSession` takes it. */
  exportSession(id: string, options: CallOptions = {}): Promise<SessionExport> {
    return this.http.json('GET', `${sessionPath(id)}/export`, SessionExport, options);
  }

  /**
   * Restores an export under its own id (`conflict` when that id exists). With `asNew`, the server gives
   * it a new id and keeps everything else: the way to import an export on the server it came from.
   */
  importSession(data: SessionExport, options: ImportOptions = {}): Promise<Session> {
    const { asNew, ...call } = options;
    return this.http.json('POST', '/api/sessions/import', Session, {
      ...call,
      body: data,
      ...(asNew ? { query: { as_new: 'true' } } : {}),
    });
  }

  /** Deletes several sessions; ids that could not be deleted come back in `failed`. */
  batchDelete(ids: string[], options: CallOptions = {}): Promise<BatchDeleteResult> {
    return this.http.json('POST', '/api/sessions/batch/delete', BatchDeleteResult, { ...options, body: { ids } });
  }

  /** Exports several sessions; unknown ids come back in `missing`. */
  batchExport(ids: string[], options: CallOptions = {}): Promise<BatchExportResult> {
    return this.http.json('POST', '/api/sessions/batch/export', BatchExportResult, { ...options, body: { ids } });
  }

  /** Configured models and the default one. */
  models(options: CallOptions = {}): Promise<ModelList> {
    return this.http.json('GET', '/api/models', ModelList, options);
  }

  /**
   * Live events of a session after `since`, reconnecting by itself. Events of types this client does
   * not know arrive as `{ type: 'unknown', event_type, data }` instead of failing the stream.
   */
  events(id: string, options: EventStreamOptions = {}): AsyncIterable<TowerEvent> {
    return followEvents(this.http, id, options);
  }

  /**
   * Sends a message and yields the events of the turn it starts, from its `user_message` to its
   * `stream_stopped` (inclusive). With `onBusy: 'enqueue'` while a turn runs, it first yields the message's
   * `message_queued`, then waits for the turn the message opens and yields that one; it ends with a
   * `queue_cleared` if the message is dropped from the queue first. Ends early if the session is deleted
   * or `signal` aborts.
   */
  async *sendAndFollow(id: string, content: string, options: SendAndFollowOptions = {}): AsyncGenerator<TowerEvent, void, undefined> {
    const { onBusy, ...follow } = options;
    // A queued message has no seq of its own yet: tail from before the send, so its events cannot be missed.
    const before = onBusy === 'enqueue' ? (await this.getSession(id, { signal: follow.signal })).last_event_seq : undefined;
    const result = await this.send(id, content, { onBusy, signal: follow.signal });
    yield* followSentTurn(this.http, id, result, before ?? 0, follow);
  }
}

function messagesBody(contents: string | string[]): { messages: Array<{ content: string }> } {
  return { messages: (typeof contents === 'string' ? [contents] : contents).map((content) => ({ content })) };
}

function sessionPath(id: string): string {
  return `/api/sessions/${encodeURIComponent(id)}`;
}
