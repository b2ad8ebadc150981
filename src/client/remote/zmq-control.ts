import { z } from 'zod';
import {
  InstanceInfo,
  InterruptResultPayload,
  MessagePayload,
  MessageSendResult,
  OkResult,
  PingResult,
  SessionPayload,
  StateSyncResult,
} from '../../protocol/pando-bus.js';
import { RemoteError } from './errors.js';
import type { CallOptions, RemoteControl } from './types.js';
import { ZmqRpcClient } from './zmq-rpc.js';

/** `void` answers: Pando may send neither result nor error, Tower sends `{ok: true}`. */
const Void = z.unknown();

/** RemoteControl over the ROUTER socket of a Tower or Pando instance (`tcp://127.0.0.1:<rpc_port>`). */
export class ZmqRemoteControl implements RemoteControl {
  readonly transport = 'zmq' as const;
  private readonly rpc: ZmqRpcClient;

  constructor(rpcEndpoint: string) {
    this.rpc = new ZmqRpcClient(rpcEndpoint);
  }

  get endpoint(): string {
    return this.rpc.endpoint;
  }

  ping(o: CallOptions = {}) {
    return this.rpc.call('instance.ping', {}, PingResult, o.timeoutMs);
  }
  info(o: CallOptions = {}) {
    return this.rpc.call('instance.info', {}, InstanceInfo, o.timeoutMs);
  }
  listSessions(o: CallOptions = {}) {
    return this.rpc.call('session.list', {}, z.array(SessionPayload).nullable().transform((v) => v ?? []), o.timeoutMs);
  }
  getSession(sessionId: string, o: CallOptions = {}) {
    return this.rpc.call('session.get', { session_id: sessionId }, SessionPayload, o.timeoutMs);
  }
  listMessages(sessionId: string, o: CallOptions = {}) {
    return this.rpc.call('message.list', { session_id: sessionId }, z.array(MessagePayload).nullable().transform((v) => v ?? []), o.timeoutMs);
  }
  async sendMessage(sessionId: string, content: string, o: CallOptions = {}) {
    const r = await this.rpc.call('message.send', { session_id: sessionId, content }, MessageSendResult.optional(), o.timeoutMs);
    return r ?? { ok: true };
  }
  async interrupt(sessionId: string, o: CallOptions = {}) {
    const r = await this.rpc.call('session.interrupt', { session_id: sessionId }, InterruptResultPayload.optional(), o.timeoutMs);
    return r?.interrupted ?? true;
  }
  async switchSession(sessionId: string, o: CallOptions = {}) {
    await this.rpc.call('session.activate', { session_id: sessionId }, OkResult.optional(), o.timeoutMs);
  }
  stateSync(o: CallOptions = {}) {
    return this.rpc.call('state.sync', {}, StateSyncResult, o.timeoutMs);
  }
  steer(): Promise<void> {
    return unsupported('steer');
  }
  followUp(): Promise<void> {
    return unsupported('follow-up');
  }
  approve(): Promise<void> {
    return unsupported('approve');
  }
  answer(): Promise<void> {
    return unsupported('answer');
  }
  eventsSince(): AsyncIterable<never> {
    return {
      [Symbol.asyncIterator]: () => ({ next: () => unsupported('events since a seq') }),
    };
  }
  /** Any method by name, for what the typed calls do not cover. */
  raw(method: string, params: unknown, o: CallOptions = {}): Promise<unknown> {
    return this.rpc.call(method, params, Void, o.timeoutMs);
  }
  close(): Promise<void> {
    return this.rpc.close();
  }
}

function unsupported(what: string): Promise<never> {
  return Promise.reject(new RemoteError('unsupported', `${what} is not part of the ZeroMQ bus; connect over HTTP for it`));
}
