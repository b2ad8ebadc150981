import type {
  InstanceInfo,
  MessagePayload,
  MessageSendResult,
  PingResult,
  SessionPayload,
  StateSyncResult,
} from '../../protocol/pando-bus.js';
import type { TowerEvent } from '../tower-event.js';

export type { InstanceInfo, MessagePayload, MessageSendResult, PingResult, SessionPayload, StateSyncResult };

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/** A live event in Pando's vocabulary (topic + payload), whichever transport carried it. */
export interface RemoteEvent {
  topic: string;
  payload: Record<string, unknown>;
  sessionId?: string;
  instanceId?: string;
  timestamp: string;
  /** Set on events the mirror made up after a reconnect from what it missed (read back with message.list). */
  resynced?: boolean;
}

export interface CallOptions {
  /** Per call; default 10 s. */
  timeoutMs?: number;
}

/**
 * Controls a remote instance (seed 002's `remoteview.RemoteControl`), over ZeroMQ (Tower or Pando) or
 * HTTP (Tower). Every call times out (10 s default) with `RemoteError('timeout')`; a method the instance
 * lacks fails with `RemoteError('unsupported')`.
 */
export interface RemoteControl {
  readonly transport: 'zmq' | 'http';
  ping(o?: CallOptions): Promise<PingResult>;
  info(o?: CallOptions): Promise<InstanceInfo>;
  listSessions(o?: CallOptions): Promise<SessionPayload[]>;
  getSession(sessionId: string, o?: CallOptions): Promise<SessionPayload>;
  listMessages(sessionId: string, o?: CallOptions): Promise<MessagePayload[]>;
  /** Starts a turn, or queues a follow-up behind the running one. */
  sendMessage(sessionId: string, content: string, o?: CallOptions): Promise<MessageSendResult>;
  /** Resolves `true` when a turn was stopped, `false` when none ran. */
  interrupt(sessionId: string, o?: CallOptions): Promise<boolean>;
  switchSession(sessionId: string, o?: CallOptions): Promise<void>;
  stateSync(o?: CallOptions): Promise<StateSyncResult>;
  /** Tower's richer control (HTTP); over ZeroMQ these fail with `unsupported`. */
  steer(sessionId: string, content: string, o?: CallOptions): Promise<void>;
  followUp(sessionId: string, content: string, o?: CallOptions): Promise<void>;
  approve(sessionId: string, toolCallId: string, o?: CallOptions): Promise<void>;
  answer(sessionId: string, elicitationId: string, content: Record<string, unknown>, o?: CallOptions): Promise<void>;
  /** Tower's own events of a session after seq `since`, resuming across reconnects (HTTP only). */
  eventsSince(sessionId: string, since: number, signal?: AbortSignal): AsyncIterable<TowerEvent>;
  close(): Promise<void>;
}

/** Where live events come from; `onReconnect` fires when the feed may have missed some. */
export interface RemoteFeed {
  /** Called before the first sync: fixes the feed's starting point, so nothing between falls through. */
  prepare?(): Promise<void>;
  start(handlers: { onEvent(e: RemoteEvent): void; onReconnect(): void }): void;
  close(): Promise<void>;
}
