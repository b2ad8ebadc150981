import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { TowerError } from '../../protocol/errors.js';
import {
  NewInboxMessage,
  NewThread,
  NewThreadMessage,
  type InboxMessage,
  type InboxStatus,
  type Thread,
  type ThreadMessage,
  type ThreadStatus,
} from '../../protocol/messaging.js';
import type { MessagingStore } from '../../store/types.js';
import type { Logger } from '../logger.js';
import { MessagingLive, type MessagingNotice } from './live.js';
import { ThreadSubscription } from './thread-subscription.js';

export const newThreadId = (): string => `th_${randomUUID().slice(0, 12)}`;

/**
 * Threads and inboxes between agents and people (seed 001). Every transport (HTTP, hub, agent tools)
 * calls this; it holds no state beyond the live watcher, so several Tower processes and external
 * writers can share one database.
 */
export class MessagingService {
  readonly live: MessagingLive;

  constructor(
    readonly store: MessagingStore,
    logger: Logger,
  ) {
    this.live = new MessagingLive(store, logger);
  }

  /** Starts watching the store (own writes and other processes' rows). */
  start(): void {
    this.live.start();
  }

  stop(): void {
    this.live.stop();
  }

  onNotice(listener: (n: MessagingNotice) => void): () => void {
    return this.live.listen(listener);
  }

  async createThread(input: NewThread): Promise<Thread> {
    const t = NewThread.parse(input);
    // The store's change feed records the new thread (a thread_state change), for this node and the others.
    return this.store.createThread({ id: t.id ?? newThreadId(), title: t.title, ...(t.status ? { status: t.status } : {}) });
  }

  async getThread(id: string): Promise<Thread> {
    const t = await this.store.getThread(id);
    if (!t) throw new TowerError('not_found', `No thread with id "${id}"`, { thread_id: id });
    return t;
  }

  listThreads(opts: { status?: ThreadStatus; limit: number }): Promise<Thread[]> {
    return this.store.listThreads(opts);
  }

  async readThread(id: string, afterSeq: number, limit: number): Promise<{ thread: Thread; messages: ThreadMessage[]; has_more: boolean }> {
    const thread = await this.getThread(id);
    const messages = await this.store.readThreadMessages(id, afterSeq, limit);
    const last = messages[messages.length - 1]?.message_seq ?? afterSeq;
    return { thread, messages, has_more: last < thread.last_seq };
  }

  post(threadId: string, input: z.input<typeof NewThreadMessage>): Promise<{ message: ThreadMessage; thread: Thread }> {
    return this.store.postThreadMessage(threadId, NewThreadMessage.parse(input));
  }

  setThreadStatus(id: string, status: ThreadStatus): Promise<Thread> {
    return this.store.setThreadStatus(id, status);
  }

  /** Messages after `afterSeq`, then live ones (see ThreadSubscription). Throws `not_found` for an unknown thread. */
  async subscribeThread(id: string, afterSeq: number, pageSize = 50): Promise<{ thread: Thread; subscription: ThreadSubscription }> {
    const thread = await this.getThread(id);
    return { thread, subscription: new ThreadSubscription(id, afterSeq, { store: this.store, live: this.live, pageSize }) };
  }

  sendInbox(input: z.input<typeof NewInboxMessage>): Promise<InboxMessage> {
    return this.store.insertInboxMessage(NewInboxMessage.parse(input));
  }

  listInbox(inbox: string, opts: { status?: InboxStatus; limit: number }): Promise<InboxMessage[]> {
    return this.store.listInbox(inbox, opts);
  }

  /** Throws `not_found` for an unknown id, or when `inbox` is given and the message is not in it. */
  async getInbox(id: string, inbox?: string): Promise<InboxMessage> {
    const m = await this.store.getInboxMessage(id);
    if (!m || (inbox !== undefined && m.to_inbox !== inbox)) {
      throw new TowerError('not_found', `No inbox message with id "${id}"${inbox === undefined ? '' : ` in inbox "${inbox}"`}`);
    }
    return m;
  }

  /** Returns the message and marks it read (an archived one stays archived). */
  async readInbox(id: string, inbox?: string): Promise<InboxMessage> {
    const m = await this.getInbox(id, inbox);
    return m.status === 'unread' ? this.store.setInboxStatus(id, 'read') : m;
  }

  async setInboxStatus(id: string, status: InboxStatus, inbox?: string): Promise<InboxMessage> {
    if (inbox !== undefined) await this.getInbox(id, inbox);
    return this.store.setInboxStatus(id, status);
  }

  /**
   * Answers an inbox message: the response goes to the inbox of whoever sent it, under the same
   * correlation id (the original's message_id when it had none), and the original is marked read.
   */
  async replyInbox(id: string, reply: { from_agent: string; payload: string; title?: string }, inbox?: string): Promise<InboxMessage> {
    const original = await this.getInbox(id, inbox);
    const response = await this.store.insertInboxMessage({
      correlation_id: original.correlation_id ?? original.message_id,
      from_agent: reply.from_agent,
      to_inbox: original.from_agent,
      message_type: 'response',
      title: reply.title ?? `Re: ${original.title}`.slice(0, 500),
      payload: reply.payload,
    });
    if (original.status === 'unread') await this.store.setInboxStatus(id, 'read');
    return response;
  }
}
