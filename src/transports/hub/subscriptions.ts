import type { Logger } from '../../core/logger.js';
import type { MessagingService } from '../../core/messaging/index.js';
import type { SessionManager } from '../../core/sessions/index.js';
import { isTowerError } from '../../protocol/errors.js';
import type { InboxMessage, Thread } from '../../protocol/messaging.js';
import type { MessagingStore } from '../../store/types.js';
import type { SinkSubscription } from '../../core/event-log/index.js';
import type { HubSubscriber } from './subscriber.js';
import { FeedError, pumpThread } from './feeds.js';
import { SessionFeed } from './session-feed.js';
import { frame, type AckData, type SubscribeData, type Topic } from './frames.js';
import { encodeTextFrame } from './ws-frame.js';

export interface SubscriptionDeps {
  manager: SessionManager;
  messaging: MessagingService;
  acks: MessagingStore;
  lastSessionSeq: (id: string) => Promise<number | undefined>;
  logger: Logger;
}

/** BATCH_FAILED while the catch-up batches were being sent, FETCH_FAILED once live (seed 001's codes). */
const feedCode = (err: unknown): 'BATCH_FAILED' | 'FETCH_FAILED' =>
  err instanceof FeedError && err.phase === 'catch_up' ? 'BATCH_FAILED' : 'FETCH_FAILED';

/** `title` and `created_at` are Tower's additions to the seed's thread_state, so a list can show a thread it has not read. */
export const stateFrame = (t: Thread): string =>
  frame('thread_state', { thread_id: t.id, status: t.status, last_seq: t.last_seq, updated_at: t.updated_at, title: t.title, created_at: t.created_at });

/**
 * Who listens to what: thread and session subscriptions (each a pump from the store-backed
 * subscription onto the connection), broadcast topics, and durable acks per client identity.
 */
export class Subscriptions {
  private readonly byTopic = new Map<Topic, Set<HubSubscriber>>();
  private readonly byThread = new Map<string, Set<HubSubscriber>>();
  /** Connections that named inboxes get only those inboxes' `inbox_message` frames. */
  private readonly inboxFilter = new WeakMap<HubSubscriber, Set<string>>();

  constructor(private readonly deps: SubscriptionDeps) {}

  /** Sends a frame to every connection that chose the topic. */
  publish(topic: Topic, text: string, stateKey?: string): void {
    const set = this.byTopic.get(topic);
    if (!set?.size) return;
    // Encoded once for every connection it goes to.
    const f = encodeTextFrame(text);
    const key = stateKey === undefined ? undefined : `${topic}:${stateKey}`;
    for (const c of set) {
      if (key !== undefined) c.sendState(key, f);
      else c.sendBroadcast(f);
    }
  }

  /** An inbox message to every `inbox_message` subscriber whose filter (if any) names its inbox. */
  publishInbox(message: InboxMessage): void {
    const set = this.byTopic.get('inbox_message');
    if (!set?.size) return;
    const f = encodeTextFrame(frame('inbox_message', message));
    for (const c of set) {
      const only = this.inboxFilter.get(c);
      if (!only || only.has(message.to_inbox)) c.sendBroadcast(f);
    }
  }

  topicCount(topic: Topic): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  threadChanged(thread: Thread): void {
    const set = this.byThread.get(thread.id);
    if (!set?.size) return;
    const f = encodeTextFrame(stateFrame(thread));
    const key = `thread_state:${thread.id}`;
    for (const c of set) c.sendState(key, f);
  }

  async subscribe(conn: HubSubscriber, data: SubscribeData): Promise<void> {
    if ('topics' in data) {
      for (const t of data.topics) {
        conn.topics.add(t);
        let set = this.byTopic.get(t);
        if (!set) this.byTopic.set(t, (set = new Set()));
        set.add(conn);
      }
      const inboxes = [...(data.inbox !== undefined ? [data.inbox] : []), ...(data.inboxes ?? [])];
      if (inboxes.length > 0) this.inboxFilter.set(conn, new Set(inboxes));
      else if (data.topics.includes('inbox_message')) this.inboxFilter.delete(conn);
      const filter = this.inboxFilter.get(conn);
      conn.send(frame('subscribed', { topics: conn.topicList(), ...(filter ? { inboxes: [...filter] } : {}) }));
      return;
    }
    if ('thread_id' in data) return this.subscribeThread(conn, data.thread_id, data.from_seq);
    return this.subscribeSession(conn, data.session_id, data.from_seq);
  }

  unsubscribe(conn: HubSubscriber, data: { thread_id: string } | { session_id: string } | { topics: Topic[] }): void {
    if ('topics' in data) {
      for (const t of data.topics) {
        conn.topics.delete(t);
        this.byTopic.get(t)?.delete(conn);
        if (t === 'inbox_message') this.inboxFilter.delete(conn);
      }
      conn.send(frame('unsubscribed', { topics: data.topics }));
      return;
    }
    const key = 'thread_id' in data ? `thread:${data.thread_id}` : `session:${data.session_id}`;
    conn.subs.get(key)?.close();
    conn.subs.delete(key);
    if ('thread_id' in data) this.byThread.get(data.thread_id)?.delete(conn);
    conn.send(frame('unsubscribed', data));
  }

  async ack(conn: HubSubscriber, data: AckData): Promise<void> {
    if (!conn.clientId) return conn.error('INVALID_ACK', 'acks need a client identity: client_id in the auth frame or ?client_id=');
    const target = 'thread_id' in data ? { thread_id: data.thread_id } : { session_id: data.session_id };
    let last: number | undefined;
    try {
      last = 'thread_id' in data ? (await this.deps.messaging.store.getThread(data.thread_id))?.last_seq : await this.deps.lastSessionSeq(data.session_id);
    } catch {
      return conn.error('ACK_FAILED', 'could not check the ack target', target);
    }
    if (last === undefined) return conn.error('INVALID_ACK', 'unknown ack target', target);
    if (data.ack_seq > last) return conn.error('INVALID_ACK', `ack_seq ${data.ack_seq} is past the last seq ${last}`, target);
    try {
      const stored = await this.deps.acks.setAck(conn.clientId, target, data.ack_seq);
      conn.send(frame('ack', { ...target, ack_seq: stored }));
    } catch (err) {
      this.deps.logger.warn({ err }, 'hub ack failed');
      conn.error('ACK_FAILED', 'could not store the ack', target);
    }
  }

  forget(conn: HubSubscriber): void {
    for (const t of conn.topicList()) this.byTopic.get(t)?.delete(conn);
    for (const key of conn.subKeys()) if (key.startsWith('thread:')) this.byThread.get(key.slice(7))?.delete(conn);
  }

  private async startFrom(conn: HubSubscriber, target: { thread_id: string } | { session_id: string }, given: number | undefined): Promise<number> {
    if (given !== undefined) return given;
    return conn.clientId ? this.deps.acks.getAck(conn.clientId, target) : 0;
  }

  private async subscribeThread(conn: HubSubscriber, threadId: string, fromSeq: number | undefined): Promise<void> {
    const key = `thread:${threadId}`;
    let sub: Awaited<ReturnType<MessagingService['subscribeThread']>>;
    let from: number;
    try {
      const thread = await this.deps.messaging.store.getThread(threadId);
      if (!thread) return conn.error('SUBSCRIBE_FAILED', `no thread "${threadId}"`, { thread_id: threadId });
      from = Math.min(await this.startFrom(conn, { thread_id: threadId }, fromSeq), fromSeq === undefined ? thread.last_seq : Infinity);
      if (from > thread.last_seq) {
        return conn.error('INVALID_SUBSCRIBE', `from_seq ${from} is past the thread's last_seq ${thread.last_seq}`, { thread_id: threadId });
      }
      sub = await this.deps.messaging.subscribeThread(threadId, from);
    } catch (err) {
      this.deps.logger.warn({ err }, 'hub thread subscribe failed');
      return conn.error('SUBSCRIBE_FAILED', 'could not subscribe', { thread_id: threadId });
    }
    if (conn.closed) return sub.subscription.close();
    conn.subs.get(key)?.close();
    conn.subs.set(key, sub.subscription);
    let set = this.byThread.get(threadId);
    if (!set) this.byThread.set(threadId, (set = new Set()));
    set.add(conn);
    conn.send(frame('subscribed', { thread_id: threadId, from_seq: from, last_seq: sub.thread.last_seq }));
    conn.send(stateFrame(sub.thread));
    pumpThread(conn, threadId, sub.subscription, from, sub.thread.last_seq).catch((err: unknown) => {
      this.deps.logger.warn({ err }, 'hub thread feed failed');
      if (!conn.closed) conn.error(feedCode(err), 'reading the thread failed; subscribe again', { thread_id: threadId });
    });
  }

  private async subscribeSession(conn: HubSubscriber, sessionId: string, fromSeq: number | undefined): Promise<void> {
    const key = `session:${sessionId}`;
    let last: number | undefined;
    let from: number;
    let sub: SinkSubscription;
    let feed: SessionFeed;
    try {
      last = await this.deps.lastSessionSeq(sessionId);
      if (last === undefined) return conn.error('SUBSCRIBE_FAILED', `no session "${sessionId}"`, { session_id: sessionId });
      from = await this.startFrom(conn, { session_id: sessionId }, fromSeq);
      if (fromSeq === undefined) from = Math.min(from, last);
      if (from > last) return conn.error('INVALID_SUBSCRIBE', `from_seq ${from} is past the session's last seq ${last}`, { session_id: sessionId });
      feed = new SessionFeed(conn, sessionId, from, last, (err) => this.sessionFeedEnded(conn, key, sub, err));
      sub = await this.deps.manager.subscribeSink(sessionId, from, feed, { paused: true });
    } catch (err) {
      if (isTowerError(err) && err.code === 'invalid_request') return conn.error('INVALID_SUBSCRIBE', err.message, { session_id: sessionId });
      if (isTowerError(err) && err.code === 'unknown_session') return conn.error('SUBSCRIBE_FAILED', err.message, { session_id: sessionId });
      this.deps.logger.warn({ err }, 'hub session subscribe failed');
      return conn.error('SUBSCRIBE_FAILED', 'could not subscribe', { session_id: sessionId });
    }
    if (conn.closed) return sub.close();
    conn.subs.get(key)?.close();
    conn.subs.set(key, sub);
    conn.send(frame('subscribed', { session_id: sessionId, from_seq: from, last_seq: last }));
    feed.start(sub);
  }

  /** A session feed ended: the log ended (session deleted) or it was closed; or it failed (`err`). */
  private sessionFeedEnded(conn: HubSubscriber, key: string, sub: SinkSubscription | undefined, err: FeedError | undefined): void {
    // The subscription is gone, and so is its key.
    if (sub && conn.subs.get(key) === sub) conn.subs.delete(key);
    if (!err) return;
    this.deps.logger.warn({ err }, 'hub session feed failed');
    if (!conn.closed) conn.error(feedCode(err), 'reading the session failed; subscribe again', { session_id: key.slice('session:'.length) });
  }
}
