import { z } from 'zod';
import {
  BatchDeleteResult,
  BatchExportResult,
  DeleteResult,
  MessageList,
  ModelList,
  SendMessageAccepted,
  Session,
  SessionExport,
  SessionList,
  SnapshotBody,
  type CreateSessionBody,
  type UpdateSessionBody,
} from '../protocol/index.js';
import { followEvents, type EventStreamOptions } from './event-stream.js';
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
   * Sends a user message, starting a turn. Resolves once accepted, with the seq of its `user_message`
   * event; throws `TowerApiError` with code `session_busy` while another turn runs.
   */
  send(id: string, content: string, options: CallOptions = {}): Promise<SendMessageAccepted> {
    return this.http.json('POST', `${sessionPath(id)}/messages`, SendMessageAccepted, { ...options, body: { content } });
  }

  /** A new session holding the conversation up to (not including) `messageIndex`. */
  fork(id: string, messageIndex: number, options: CallOptions = {}): Promise<Session> {
    return this.http.json('POST', `${sessionPath(id)}/fork`, Session, { ...options, body: { message_index: messageIndex } });
  }

  /** The session with its conversation and full event log, as `importSession` takes it. */
  exportSession(id: string, options: CallOptions = {}): Promise<SessionExport> {
    return this.http.json('GET', `${sessionPath(id)}/export`, SessionExport, options);
  }

  /** Imports an export as a new session. */
  importSession(data: SessionExport, options: CallOptions = {}): Promise<Session> {
    return this.http.json('POST', '/api/sessions/import', Session, { ...options, body: data });
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
   * `stream_stopped` (inclusive). Ends early if the session is deleted or `signal` aborts.
   */
  async *sendAndFollow(id: string, content: string, options: FollowOptions = {}): AsyncGenerator<TowerEvent, void, undefined> {
    const accepted = await this.send(id, content, { signal: options.signal });
    // The log is durable before the 202, so tailing from just before our message cannot miss anything.
    for await (const event of followEvents(this.http, id, { ...options, since: accepted.seq - 1 })) {
      yield event;
      if (event.type === 'stream_stopped' && event.turn_id === accepted.turn_id) return;
    }
  }
}

function sessionPath(id: string): string {
  return `/api/sessions/${encodeURIComponent(id)}`;
}
