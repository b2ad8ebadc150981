import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConversationMessage, OnBusy, Session, SessionExport } from '../../protocol/index.js';
import {
  controlRoute,
  drainFollowup,
  followup,
  interrupt,
  newControlState,
  trackRequest,
  turnEnded,
  updateSession,
  type ControlState,
  type StubEvent,
  type StubHost,
  type StubReply,
} from './stub-control.js';

export type { StubEvent } from './stub-control.js';

/**
 * A small in-memory stand-in for Tower's HTTP API on a real `node:http` server, for testing the SDK and
 * the CLI without the core. It keeps a per-session event log, serves it as SSE with resume by seq, and
 * can drop SSE connections mid-frame to exercise reconnects. Turns run a script of events (`turn`); a
 * `HOLD` in it keeps the turn running (busy) until `release` or until its pending requests are answered.
 * Steers are queued but never injected.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** In a turn script: the turn stays running here until `release`, or until every pending request is answered. */
export const HOLD: StubEvent = { type: '$hold' };

interface StubSession {
  session: Session;
  events: Array<Record<string, unknown>>;
  messages: ConversationMessage[];
  live: Set<SseConnection>;
  control: ControlState;
}

interface SseConnection {
  res: ServerResponse;
  sent: number;
  dropAfter: number | undefined;
  dropped: boolean;
}

const TIMESTAMP = '2025-01-01T00:00:00.000Z';

/** A complete, valid `Session` with test defaults. */
export function makeSession(overrides: Partial<Session> = {}): Session {
  return {
    id: 'ses_1',
    title: 'Untitled',
    created_at: TIMESTAMP,
    updated_at: TIMESTAMP,
    working_dir: '/tmp/work',
    model: 'fake/model',
    permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false },
    starred: false,
    input_tokens: 0,
    output_tokens: 0,
    cost: 0,
    message_count: 0,
    status: 'idle',
    last_event_seq: 0,
    ...overrides,
  };
}

/** The default turn: two text deltas, then a normal stop. */
export function textTurn(text: string): (turnId: string) => StubEvent[] {
  return (turnId) => [
    { type: 'stream_started', turn_id: turnId, model: 'fake/model' },
    { type: 'agent_choice', content: text.slice(0, Math.ceil(text.length / 2)) },
    { type: 'agent_choice', content: text.slice(Math.ceil(text.length / 2)) },
    { type: 'stream_stopped', turn_id: turnId, reason: 'normal' },
  ];
}

export class StubTower implements StubHost {
  readonly requests: RecordedRequest[] = [];
  /** Models sessions may switch to; the first is the default. */
  models: string[] = ['fake/model', 'fake/other'];
  /** For the n-th SSE connection (from 0): how many events to send before cutting it mid-frame. */
  dropAfter: (connection: number) => number | undefined = () => undefined;
  /** Events the stub appends after the `user_message` of a sent message. */
  turn: (turnId: string, content: string) => StubEvent[] = textTurn('Hello from the stub.');
  /** Handles a request before the routes when it returns true (custom errors, odd bodies). */
  intercept: (req: RecordedRequest, res: ServerResponse) => boolean = () => false;
  sseConnections = 0;
  private readonly sessions = new Map<string, StubSession>();
  private nextId = 1;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  static async start(options: { token?: string } = {}): Promise<StubTower> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const stub = new StubTower(server, `http://127.0.0.1:${port}`, options.token);
    server.on('request', (req, res) => {
      stub.handle(req, res).catch((error: unknown) => sendJson(res, 500, { code: 'internal', message: String(error) }));
    });
    return stub;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addSession(overrides: Partial<Session> = {}): Session {
    const session = makeSession({ id: `ses_${this.nextId++}`, ...overrides });
    this.sessions.set(session.id, { session, events: [], messages: [], live: new Set(), control: newControlState() });
    return session;
  }

  /**
   * Appends an event to a session's log and writes it to the live SSE connections. Confirmations and
   * questions become pending; a `stream_stopped` of the running turn ends it (and starts a queued
   * follow-up).
   */
  append(sessionId: string, event: StubEvent): number {
    const entry = this.mustGet(sessionId);
    const seq = entry.events.length + 1;
    const wire = { ...event, seq, session_id: sessionId, timestamp: TIMESTAMP };
    entry.events.push(wire);
    entry.session.last_event_seq = seq;
    trackRequest(entry.control, event);
    for (const connection of entry.live) this.write(connection, wire);
    if (event.type === 'session_deleted') {
      for (const connection of entry.live) connection.res.end();
      this.sessions.delete(sessionId);
      turnEnded(entry.control);
    }
    if (event.type === 'stream_stopped' && event.turn_id === entry.control.turn?.id) {
      entry.session.status = 'idle';
      turnEnded(entry.control);
      // As the server: the queue drains after every turn, an interrupted one included.
      setImmediate(() => this.sessions.has(sessionId) && drainFollowup(this, entry));
    }
    return seq;
  }

  /** Writes a user message and runs the turn script after it (after the caller's response, as the server does). */
  startTurn(sessionId: string, content: string, queueItemId?: string): { seq: number; turn_id: string } {
    const entry = this.mustGet(sessionId);
    const turnId = `turn_${entry.events.length + 1}`;
    entry.messages.push({ role: 'user', content });
    const seq = this.append(sessionId, {
      type: 'user_message',
      content,
      message_index: entry.messages.length - 1,
      ...(queueItemId === undefined ? {} : { queue_item_id: queueItemId }),
    });
    entry.control.turn = { id: turnId };
    entry.session.status = 'running';
    setImmediate(() => void this.play(entry, turnId, content));
    return { seq, turn_id: turnId };
  }

  /** Lets a turn waiting at a `HOLD` go on. */
  release(sessionId: string): void {
    this.mustGet(sessionId).control.turn?.release?.();
  }

  /** True while a turn of the session runs. */
  isRunning(sessionId: string): boolean {
    return this.mustGet(sessionId).control.turn !== undefined;
  }

  /** True while a turn of the session waits at a `HOLD` (everything before it is in the log). */
  isHeld(sessionId: string): boolean {
    return this.mustGet(sessionId).control.turn?.release !== undefined;
  }

  private async play(entry: StubSession, turnId: string, content: string): Promise<void> {
    const id = entry.session.id;
    const running = () => this.sessions.has(id) && entry.control.turn?.id === turnId;
    let reply = '';
    for (const event of this.turn(turnId, content)) {
      if (!running()) return;
      if (event.type === HOLD.type) {
        const turn = entry.control.turn;
        if (turn) await new Promise<void>((resolve) => (turn.release = resolve));
        if (turn) turn.release = undefined;
        continue;
      }
      if (event.type === 'agent_choice') reply += String(event.content);
      if (event.type === 'stream_stopped') {
        entry.messages.push({ role: 'assistant', content: reply });
        entry.session.message_count = entry.messages.length;
      }
      this.append(id, event);
    }
  }

  private mustGet(id: string): StubSession {
    const entry = this.sessions.get(id);
    if (!entry) throw new Error(`stub: no session ${id}`);
    return entry;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const text = await readBody(req);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    this.requests.push(recorded);
    if (this.intercept(recorded, res)) return;
    const { method, path, body } = recorded;
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (this.token && req.headers.authorization !== `Bearer ${this.token}`) {
      return sendJson(res, 401, { code: 'unauthorized', message: 'missing or wrong token' });
    }
    if (path === '/api/models') {
      const models = this.models.map((model) => ({ id: model, provider: model.split('/')[0] ?? '', name: model.split('/').slice(1).join('/') }));
      return sendJson(res, 200, { models, default: this.models[0] ?? 'fake/model' });
    }
    if (path === '/api/sessions' && method === 'GET') return this.list(res, url.searchParams);
    if (path === '/api/sessions' && method === 'POST') {
      const input = (body ?? {}) as Partial<Session>;
      return sendJson(res, 201, this.addSession({ model: input.model ?? 'fake/model', working_dir: input.working_dir ?? '/tmp/work' }));
    }
    if (path === '/api/sessions/import' && method === 'POST') {
      // Like the server: the export's own id, or a new one with ?as_new=true.
      const data = body as SessionExport;
      const asNew = url.searchParams.get('as_new') === 'true';
      if (!asNew && this.sessions.has(data.session.id)) {
        return sendJson(res, 409, { code: 'conflict', message: `session ${data.session.id} already exists` });
      }
      const fields = { title: data.session.title, model: data.session.model };
      return sendJson(res, 201, this.addSession(asNew ? fields : { ...fields, id: data.session.id }));
    }
    if (path === '/api/sessions/batch/delete' && method === 'POST') {
      const ids = (body as { ids: string[] }).ids;
      const failed = ids.filter((id) => !this.sessions.has(id));
      for (const id of ids) if (this.sessions.has(id)) this.append(id, { type: 'session_deleted' });
      return sendJson(res, 200, { deleted: ids.length - failed.length, failed });
    }
    const match = /^\/api\/sessions\/([^/]+)((?:\/[^/]+)*)$/.exec(path);
    const entry = match ? this.sessions.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match || !entry) return sendJson(res, 404, { code: 'unknown_session', message: `no session at ${path}` });
    const id = entry.session.id;
    const segments = (match[2] ?? '').split('/').filter(Boolean).map(decodeURIComponent);
    const control = await controlRoute(this, entry, { method, segments, query: url.searchParams, headers: req.headers, body });
    if (control) return reply(res, control);
    const route = `${method} ${segments.join('/')}`;
    switch (route) {
      case 'GET ':
        return sendJson(res, 200, entry.session);
      case 'PATCH ':
        return reply(res, updateSession(this, entry, body));
      case 'DELETE ':
        this.append(id, { type: 'session_deleted' });
        return sendJson(res, 200, { deleted: true });
      case 'GET messages':
        return sendJson(res, 200, { messages: storedMessages(entry) });
      case 'GET snapshot':
        return sendJson(res, 200, {
          session: entry.session,
          messages: storedMessages(entry),
          streaming: false,
          last_event_seq: entry.session.last_event_seq,
        });
      case 'GET export': {
        const { status: _status, ...session } = entry.session;
        return sendJson(res, 200, { version: 1, session, messages: storedMessages(entry), events: [] });
      }
      case 'POST messages': {
        const { content, on_busy } = body as { content: string; on_busy?: OnBusy };
        return reply(res, this.sendMessage(entry, content, on_busy ?? 'reject'));
      }
      case 'GET events':
        return this.stream(req, res, entry, url.searchParams);
      default:
        return sendJson(res, 404, { code: 'not_found', message: `no route ${route}` });
    }
  }

  private list(res: ServerResponse, query: URLSearchParams): void {
    const all = [...this.sessions.values()].map((entry) => entry.session).reverse();
    const start = Number(query.get('cursor') ?? 0);
    const limit = Number(query.get('limit') ?? 50);
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    sendJson(res, 200, next === undefined ? { items } : { items, next_cursor: next });
  }

  private sendMessage(entry: StubSession, content: string, onBusy: OnBusy): StubReply {
    if (entry.control.turn) {
      if (onBusy === 'reject') {
        return { status: 409, body: { code: 'session_busy', message: 'A turn is already running in this session' } };
      }
      if (onBusy === 'enqueue') return followup(this, entry, [content], undefined);
      interrupt(this, entry, false);
    }
    return { status: 202, body: this.startTurn(entry.session.id, content) };
  }

  private stream(req: IncomingMessage, res: ServerResponse, entry: StubSession, query: URLSearchParams): void {
    const since = Number(req.headers['last-event-id'] ?? query.get('since') ?? 0);
    const connection: SseConnection = {
      res,
      sent: 0,
      dropAfter: this.dropAfter(this.sseConnections++),
      dropped: false,
    };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(': hello\n\n');
    for (const event of entry.events) if (Number(event.seq) > since) this.write(connection, event);
    if (connection.dropped) return;
    entry.live.add(connection);
    res.on('close', () => entry.live.delete(connection));
  }

  private write(connection: SseConnection, event: Record<string, unknown>): void {
    if (connection.dropped || connection.res.destroyed) return;
    const frame = `id: ${String(event.seq)}\nevent: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
    if (connection.dropAfter !== undefined && connection.sent >= connection.dropAfter) {
      // Cut mid-frame: the client must discard the partial event and get it again on resume.
      connection.dropped = true;
      connection.res.write(frame.slice(0, Math.floor(frame.length / 2)), () => connection.res.destroy());
      return;
    }
    connection.sent++;
    connection.res.write(frame);
  }
}

function storedMessages(entry: StubSession) {
  return entry.messages.map((message, index) => ({ index, message, created_at: TIMESTAMP }));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function reply(res: ServerResponse, answer: StubReply): void {
  sendJson(res, answer.status, answer.body, answer.headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
