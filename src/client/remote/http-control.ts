import { TowerClient, type TowerClientOptions } from '../client.js';
import { TowerApiError } from '../errors.js';
import { goDuration, type SessionPayload } from '../../protocol/pando-bus.js';
import { toMessagePayloads, toSessionPayload } from '../../protocol/pando-mapping.js';
import { RemoteError } from './errors.js';
import { DEFAULT_CALL_TIMEOUT_MS, type CallOptions, type RemoteControl } from './types.js';

/**
 * RemoteControl over Tower's HTTP API (the existing `TowerClient`). HTTP has no "active session" of the
 * instance, so `switchSession` checks the session exists and keeps the choice on this side.
 */
export class HttpRemoteControl implements RemoteControl {
  readonly transport = 'http' as const;
  readonly client: TowerClient;
  private readonly started = Date.now();
  activeSessionId: string | undefined;

  constructor(options: TowerClientOptions) {
    this.client = new TowerClient(options);
  }

  ping(o: CallOptions = {}) {
    return this.guard('ping', o, async (signal) => {
      await this.client.health({ signal });
      return { status: 'ok', instance_id: this.client.url, uptime: goDuration(Date.now() - this.started) };
    });
  }
  info(): Promise<never> {
    return Promise.reject(new RemoteError('unsupported', 'instance.info is a bus method; Tower over HTTP serves /health and the session API'));
  }
  listSessions(o: CallOptions = {}) {
    return this.guard('listSessions', o, async (signal) => {
      const out: SessionPayload[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.client.listSessions({ limit: 200, cursor, signal });
        out.push(...page.items.map(toSessionPayload));
        cursor = page.items.length > 0 ? page.next_cursor : undefined;
      } while (cursor);
      return out;
    });
  }
  getSession(sessionId: string, o: CallOptions = {}) {
    return this.guard('getSession', o, async (signal) => toSessionPayload(await this.client.getSession(sessionId, { signal })));
  }
  listMessages(sessionId: string, o: CallOptions = {}) {
    return this.guard('listMessages', o, async (signal) => toMessagePayloads(await this.client.messages(sessionId, { signal })));
  }
  sendMessage(sessionId: string, content: string, o: CallOptions = {}) {
    return this.guard('sendMessage', o, async (signal) => {
      const r = await this.client.send(sessionId, content, { onBusy: 'enqueue', signal });
      return 'status' in r ? { ok: true, status: 'queued' as const, item_ids: r.item_ids } : { ok: true, status: 'started' as const, turn_id: r.turn_id };
    });
  }
  interrupt(sessionId: string, o: CallOptions = {}) {
    return this.guard('interrupt', o, async (signal) => (await this.client.interrupt(sessionId, { signal })).interrupted);
  }
  switchSession(sessionId: string, o: CallOptions = {}) {
    return this.guard('switchSession', o, async (signal) => {
      await this.client.getSession(sessionId, { signal });
      this.activeSessionId = sessionId;
    });
  }
  stateSync(o: CallOptions = {}) {
    return this.guard('stateSync', o, async () => ({
      sessions: await this.listSessions(o),
      ...(this.activeSessionId ? { active_session_id: this.activeSessionId } : {}),
      instance_id: this.client.url,
    }));
  }
  steer(sessionId: string, content: string, o: CallOptions = {}) {
    return this.guard('steer', o, async (signal) => void (await this.client.steer(sessionId, content, { signal })));
  }
  followUp(sessionId: string, content: string, o: CallOptions = {}) {
    return this.guard('followUp', o, async (signal) => void (await this.client.followup(sessionId, content, { signal })));
  }
  approve(sessionId: string, toolCallId: string, o: CallOptions = {}) {
    return this.guard('approve', o, async (signal) => void (await this.client.approve(sessionId, toolCallId, 'call', { signal })));
  }
  answer(sessionId: string, elicitationId: string, content: Record<string, unknown>, o: CallOptions = {}) {
    return this.guard('answer', o, async (signal) => void (await this.client.answerElicitation(sessionId, elicitationId, 'accept', content, { signal })));
  }
  eventsSince(sessionId: string, since: number, signal?: AbortSignal) {
    return this.client.events(sessionId, { since, ...(signal ? { signal } : {}) });
  }
  async close(): Promise<void> {}

  /** One timeout and one error type for every call, as over ZeroMQ. */
  private async guard<T>(method: string, o: CallOptions, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = o.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await body(signal);
    } catch (err) {
      if (signal.aborted) throw new RemoteError('timeout', `${method}: no answer within ${timeoutMs} ms`, { method });
      if (err instanceof TowerApiError) {
        const code = err.code === 'unknown_session' || err.code === 'not_found' ? 'not_found' : 'rpc';
        throw new RemoteError(code, `${method}: ${err.message}`, { method, data: { code: err.code, message: err.message } });
      }
      throw err;
    }
  }
}
