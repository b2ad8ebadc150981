import type { TowerEvent } from '../tower-event.js';
import type { HttpRemoteControl } from './http-control.js';
import type { RemoteEvent, RemoteFeed } from './types.js';

const MESSAGE_EVENTS = new Set(['user_message', 'token_usage', 'stream_stopped']);

/**
 * Live events of one session over SSE, in Pando's vocabulary. The stream resumes by seq after a
 * disconnect or a Tower restart (Last-Event-ID), so nothing is missed; message.append is read back from
 * the stored conversation when an event changed it, so ids match message.list.
 */
export class HttpFeed implements RemoteFeed {
  private readonly abort = new AbortController();
  private since = 0;
  private loop: Promise<void> | undefined;
  private inCall = false;

  constructor(
    private readonly control: HttpRemoteControl,
    readonly sessionId: string,
  ) {}

  async prepare(): Promise<void> {
    this.since = (await this.control.client.getSession(this.sessionId)).last_event_seq;
  }

  start(handlers: { onEvent(e: RemoteEvent): void; onReconnect(): void }): void {
    const events = this.control.client.events(this.sessionId, {
      since: this.since,
      signal: this.abort.signal,
      initialDelayMs: 100,
      maxDelayMs: 1000,
      onReconnect: () => handlers.onReconnect(),
    });
    this.loop = (async () => {
      try {
        for await (const event of events) {
          for (const e of this.translate(event)) handlers.onEvent(e);
          if (MESSAGE_EVENTS.has(event.type)) await this.appendMessages(handlers);
        }
      } catch {
        // aborted or the session went away; the session's iterators end on close
      }
    })();
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async appendMessages(handlers: { onEvent(e: RemoteEvent): void }): Promise<void> {
    const messages = await this.control.listMessages(this.sessionId).catch(() => []);
    const timestamp = new Date().toISOString();
    for (const m of messages) {
      handlers.onEvent({
        topic: 'message.append',
        sessionId: this.sessionId,
        timestamp,
        payload: { session_id: this.sessionId, message_id: m.id, role: m.role, content: m.content },
      });
    }
  }

  private translate(event: TowerEvent): RemoteEvent[] {
    const sid = this.sessionId;
    const base = { sessionId: sid, timestamp: event.timestamp };
    const ev = (topic: string, payload: Record<string, unknown>): RemoteEvent => ({ ...base, topic, payload: { session_id: sid, ...payload } });
    const start = (): RemoteEvent[] => {
      if (this.inCall) return [];
      this.inCall = true;
      return [ev('llm.start', {})];
    };
    switch (event.type) {
      case 'stream_started':
        return start();
      case 'agent_choice':
        return [...start(), ev('llm.token', { token: event.content })];
      case 'tool_call':
        return [...start(), ev('tool.start', { tool_name: event.tool, call_id: event.tool_call_id, params: JSON.stringify(event.args ?? {}) })];
      case 'token_usage':
        this.inCall = false;
        return [ev('llm.end', { tokens_in: event.input_tokens, tokens_out: event.output_tokens })];
      case 'tool_call_response': {
        const result = event.result.length > 512 ? `${event.result.slice(0, 512)}...` : event.result;
        return [ev('tool.end', { tool_name: event.tool, call_id: event.tool_call_id, is_error: event.is_error, result })];
      }
      case 'stream_stopped': {
        const wasIn = this.inCall;
        this.inCall = false;
        return wasIn ? [ev('llm.end', { tokens_in: 0, tokens_out: 0 })] : [];
      }
      case 'session_deleted':
        return [{ ...base, topic: 'session.deleted', payload: { id: sid, title: '', updated_at: event.timestamp, message_count: 0 } }];
      default:
        return [];
    }
  }
}
