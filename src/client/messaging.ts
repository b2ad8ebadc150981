import WebSocket from 'ws';
import { z } from 'zod';
import {
  InboxList,
  InboxMessage,
  PostResult,
  Thread,
  ThreadList,
  ThreadMessage,
  ThreadMessagesPage,
  type InboxMessageType,
  type InboxStatus,
  type MessageKind,
  type PartyType,
  type ThreadStatus,
} from '../protocol/messaging.js';
import { TelemetryList } from '../protocol/telemetry.js';
import { TowerConnectionError, TowerProtocolError } from './errors.js';
import { HttpTransport, type HttpOptions } from './http.js';

export interface PostInput {
  content: string;
  kind?: MessageKind;
  subject?: string;
  from_type?: PartyType;
  from_id?: string;
  to_type?: PartyType;
  to_id?: string;
  metadata?: Record<string, unknown>;
}

export interface WatchThreadOptions {
  /** Resume after this message_seq; omitted: after this client's last ack (with clientId) or from the start. */
  fromSeq?: number;
  /** Durable identity for acks: every delivered message is acknowledged, so a later watch resumes after it. */
  clientId?: string;
  signal?: AbortSignal;
}

const HubFrame = z.object({ type: z.string(), data: z.unknown().optional() });
const HubError = z.object({ code: z.string(), message: z.string() });
const Batch = z.object({ messages: z.array(ThreadMessage) });

const enc = encodeURIComponent;

/**
 * Threads, inboxes and telemetry over HTTP, and a live thread watch over the hub (`/hub/ws`). The token
 * goes in the Authorization header of both, never in a URL.
 */
export class MessagingClient {
  private readonly http: HttpTransport;

  constructor(private readonly options: HttpOptions) {
    this.http = new HttpTransport(options);
  }

  listThreads(opts: { status?: ThreadStatus; limit?: number } = {}): Promise<z.infer<typeof ThreadList>> {
    return this.http.json('GET', '/api/threads', ThreadList, { query: { status: opts.status, limit: opts.limit } });
  }

  createThread(body: { id?: string; title?: string; status?: ThreadStatus } = {}): Promise<Thread> {
    return this.http.json('POST', '/api/threads', Thread, { body });
  }

  getThread(id: string): Promise<Thread> {
    return this.http.json('GET', `/api/threads/${enc(id)}`, Thread);
  }

  readThread(id: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<z.infer<typeof ThreadMessagesPage>> {
    return this.http.json('GET', `/api/threads/${enc(id)}/messages`, ThreadMessagesPage, { query: { after_seq: opts.afterSeq, limit: opts.limit } });
  }

  post(threadId: string, body: PostInput): Promise<z.infer<typeof PostResult>> {
    return this.http.json('POST', `/api/threads/${enc(threadId)}/messages`, PostResult, { body });
  }

  setThreadStatus(id: string, status: ThreadStatus): Promise<Thread> {
    return this.http.json('POST', `/api/threads/${enc(id)}/status`, Thread, { body: { status } });
  }

  listInbox(inbox: string, opts: { status?: InboxStatus; limit?: number } = {}): Promise<z.infer<typeof InboxList>> {
    return this.http.json('GET', `/api/inbox/${enc(inbox)}`, InboxList, { query: { status: opts.status, limit: opts.limit } });
  }

  sendInbox(inbox: string, body: { from_agent: string; title?: string; payload?: string; message_type?: InboxMessageType; correlation_id?: string }): Promise<InboxMessage> {
    return this.http.json('POST', `/api/inbox/${enc(inbox)}`, InboxMessage, { body });
  }

  /** Reads one message and marks it read. */
  readInbox(inbox: string, id: string): Promise<InboxMessage> {
    return this.http.json('GET', `/api/inbox/${enc(inbox)}/${enc(id)}`, InboxMessage);
  }

  reply(inbox: string, id: string, body: { payload: string; from_agent?: string; title?: string }): Promise<InboxMessage> {
    return this.http.json('POST', `/api/inbox/${enc(inbox)}/${enc(id)}/reply`, InboxMessage, { body });
  }

  setInboxStatus(inbox: string, id: string, status: InboxStatus): Promise<InboxMessage> {
    return this.http.json('POST', `/api/inbox/${enc(inbox)}/${enc(id)}/status`, InboxMessage, { body: { status } });
  }

  telemetry(): Promise<z.infer<typeof TelemetryList>> {
    return this.http.json('GET', '/api/telemetry', TelemetryList);
  }

  /** The thread's messages (stored, then live) until the signal aborts or the server closes. */
  async *watchThread(threadId: string, opts: WatchThreadOptions = {}): AsyncGenerator<ThreadMessage> {
    const url = new URL('/hub/ws', this.http.baseUrl.replace(/^http/, 'ws'));
    if (opts.clientId) url.searchParams.set('client_id', opts.clientId);
    const headers: Record<string, string> = this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
    const ws = new WebSocket(url, { headers });
    const queue: (ThreadMessage | Error | null)[] = [];
    let wake: (() => void) | undefined;
    const push = (item: ThreadMessage | Error | null) => {
      queue.push(item);
      wake?.();
    };
    const onAbort = () => ws.close(1000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', timestamp: Date.now(), data: { thread_id: threadId, ...(opts.fromSeq !== undefined ? { from_seq: opts.fromSeq } : {}) } }));
    });
    ws.on('message', (raw) => {
      const frame = HubFrame.safeParse(safeJson(String(raw)));
      if (!frame.success) return push(new TowerProtocolError('hub sent a malformed frame'));
      const { type, data } = frame.data;
      if (type === 'error') {
        const e = HubError.safeParse(data);
        return push(new TowerProtocolError(e.success ? `${e.data.code}: ${e.data.message}` : 'hub error'));
      }
      const messages = type === 'batch' ? Batch.safeParse(data) : type === 'message' ? z.array(ThreadMessage).safeParse([data]) : undefined;
      if (!messages) return;
      if (!messages.success) return push(new TowerProtocolError(`hub sent a malformed ${type} frame`));
      const list = Array.isArray(messages.data) ? messages.data : messages.data.messages;
      for (const m of list) push(m);
      const last = list[list.length - 1];
      if (opts.clientId && last) ws.send(JSON.stringify({ type: 'ack', timestamp: Date.now(), data: { thread_id: threadId, ack_seq: last.message_seq } }));
    });
    ws.on('unexpected-response', (_req, res) => push(new TowerConnectionError(url.toString(), undefined, `hub refused the connection: HTTP ${res.statusCode ?? 0}`)));
    ws.on('error', (err) => push(err instanceof Error ? err : new Error(String(err))));
    ws.on('close', () => push(null));
    try {
      for (;;) {
        const item = queue.shift();
        if (item === undefined) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (item === null) return;
        if (item instanceof Error) throw item;
        yield item;
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      ws.close();
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
