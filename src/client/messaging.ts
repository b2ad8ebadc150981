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
import { Backoff, sleep } from './backoff.js';
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
  /** Reconnect after a dropped connection (default true). */
  reconnect?: boolean;
  /** First reconnect delay (default 250 ms), doubling per failed attempt up to `maxDelayMs` (default 5 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** The connection dropped; the next attempt comes after `delayMs`, resuming after `lastSeq`. */
  onReconnect?: (info: { attempt: number; delayMs: number; lastSeq: number | undefined }) => void;
  /** A reconnect succeeded: subscribed again after `lastSeq`. */
  onResumed?: (info: { lastSeq: number | undefined }) => void;
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

  /**
   * The thread's messages (stored, then live) until the signal aborts. A dropped connection or a
   * restarted server is reconnected with backoff (`reconnect: false` ends instead), resubscribing
   * with `from_seq` = the last message shown, so no message is shown twice or skipped. Errors the hub
   * names (an unknown thread, a bad token) end the watch.
   */
  async *watchThread(threadId: string, opts: WatchThreadOptions = {}): AsyncGenerator<ThreadMessage> {
    const backoff = new Backoff(opts.initialDelayMs ?? 250, opts.maxDelayMs ?? 5_000);
    let last = opts.fromSeq;
    let connected = false;
    for (;;) {
      let dropped: Error | undefined;
      try {
        for await (const item of this.watchOnce(threadId, last, opts)) {
          if (item === 'subscribed') {
            if (connected && backoff.attempts > 0) opts.onResumed?.({ lastSeq: last });
            connected = true;
            backoff.reset();
            continue;
          }
          if (last !== undefined && item.message_seq <= last) continue;
          last = item.message_seq;
          yield item;
        }
      } catch (err) {
        // A server that was never reached fails fast, as every other command does.
        if (!(err instanceof TowerConnectionError) || opts.reconnect === false || !connected) throw err;
        dropped = err;
      }
      if (opts.signal?.aborted) return;
      if (opts.reconnect === false) {
        if (dropped) throw dropped;
        return;
      }
      const delayMs = backoff.next();
      opts.onReconnect?.({ attempt: backoff.attempts, delayMs, lastSeq: last });
      if (!(await sleep(delayMs, opts.signal))) return;
    }
  }

  /** One hub connection: `subscribed`, then messages; ends when the connection closes. */
  private async *watchOnce(threadId: string, fromSeq: number | undefined, opts: WatchThreadOptions): AsyncGenerator<ThreadMessage | 'subscribed'> {
    const url = new URL('/hub/ws', this.http.baseUrl.replace(/^http/, 'ws'));
    if (opts.clientId) url.searchParams.set('client_id', opts.clientId);
    const headers: Record<string, string> = this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
    const ws = new WebSocket(url, { headers });
    const queue: (ThreadMessage | 'subscribed' | Error | null)[] = [];
    let wake: (() => void) | undefined;
    const push = (item: ThreadMessage | 'subscribed' | Error | null) => {
      queue.push(item);
      wake?.();
    };
    const onAbort = () => ws.close(1000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', timestamp: Date.now(), data: { thread_id: threadId, ...(fromSeq !== undefined ? { from_seq: fromSeq } : {}) } }));
    });
    ws.on('message', (raw) => {
      const frame = HubFrame.safeParse(safeJson(String(raw)));
      if (!frame.success) return push(new TowerProtocolError('hub sent a malformed frame'));
      const { type, data } = frame.data;
      if (type === 'error') {
        const e = HubError.safeParse(data);
        return push(new TowerProtocolError(e.success ? `${e.data.code}: ${e.data.message}` : 'hub error'));
      }
      if (type === 'subscribed') return push('subscribed');
      const messages = type === 'batch' ? Batch.safeParse(data) : type === 'message' ? z.array(ThreadMessage).safeParse([data]) : undefined;
      if (!messages) return;
      if (!messages.success) return push(new TowerProtocolError(`hub sent a malformed ${type} frame`));
      const list = Array.isArray(messages.data) ? messages.data : messages.data.messages;
      for (const m of list) push(m);
      const lastOne = list[list.length - 1];
      if (opts.clientId && lastOne) ws.send(JSON.stringify({ type: 'ack', timestamp: Date.now(), data: { thread_id: threadId, ack_seq: lastOne.message_seq } }));
    });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      const message = `hub refused the connection: HTTP ${status}`;
      // Refused credentials do not get better by retrying; a server starting or overloaded may.
      push(status === 401 || status === 403 ? new TowerProtocolError(message) : new TowerConnectionError(url.toString(), undefined, message));
      ws.terminate();
    });
    ws.on('error', (err: NodeJS.ErrnoException) => push(new TowerConnectionError(url.toString(), err.code, err.code ?? err.message, { cause: err })));
    ws.on('close', () => push(null));
    try {
      for (;;) {
        const item = queue.shift();
        if (item === undefined) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        if (item === null) {
          if (opts.signal?.aborted) return;
          throw new TowerConnectionError(url.toString(), undefined, 'hub connection closed');
        }
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
