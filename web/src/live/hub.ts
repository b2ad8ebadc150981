import type { LiveFeed, LiveState, SessionFeedOptions, ThreadFeedOptions, TopicName, TopicOptions } from './feed.js';
import type { HubFrame, HubSocket } from './hub-socket.js';
import { threadMessagesOf, wireEventsOf } from './wire.js';

/** Errors after which a subscription is sent again (the server says: subscribe again). */
const RETRY = new Set(['FETCH_FAILED', 'BATCH_FAILED']);

/**
 * The hub implementation of the live feed: sessions and threads by `from_seq` (catch-up `batch`
 * frames, then live ones), broadcast topics for the lists. One socket carries everything.
 */
export class HubFeed implements LiveFeed {
  readonly transport = 'hub' as const;
  constructor(private readonly socket: HubSocket) {}

  session(id: string, opts: SessionFeedOptions): () => void {
    const key = `session:${id}`;
    return this.follow(key, { session_id: id }, opts.from, opts.onState, (f) => {
      if (f.type === 'batch' && Array.isArray(f.data?.events)) opts.onEvents(wireEventsOf(f.data.events));
      else if (f.type === 'event' && f.data) opts.onEvents(wireEventsOf(f.data));
    });
  }

  thread(id: string, opts: ThreadFeedOptions): () => void {
    const key = `thread:${id}`;
    return this.follow(key, { thread_id: id }, opts.from, opts.onState, (f) => {
      if (f.type === 'batch' && Array.isArray(f.data?.messages)) opts.onMessages(threadMessagesOf(f.data.messages));
      else if (f.type === 'message' && f.data) opts.onMessages(threadMessagesOf(f.data));
    });
  }

  topic(name: TopicName, opts: TopicOptions): () => void {
    opts.onState(this.socket.status === 'open' ? 'connecting' : this.socket.status === 'reconnecting' ? 'reconnecting' : 'connecting');
    this.socket.start();
    return this.socket.topic(name, {
      onFrame: (f) => opts.onFrame(f.type, f.data, f.timestamp ?? Date.now()),
      onLive: () => {
        opts.onState('live');
        opts.onLive();
      },
      onDrop: () => opts.onState('reconnecting'),
    });
  }

  private follow(key: string, target: Record<string, string>, from: () => number, onState: (s: LiveState) => void, onData: (f: HubFrame) => void): () => void {
    onState(this.socket.status === 'reconnecting' ? 'reconnecting' : 'connecting');
    this.socket.start();
    let closed = false;
    const remove = this.socket.add(key, {
      subscribe: () => ({ ...target, from_seq: from() }),
      unsubscribe: target,
      onDrop: () => onState('reconnecting'),
      onFrame: (f) => {
        if (f.type === 'subscribed') return onState('live');
        if (f.type === 'error') {
          const code = String(f.data?.code ?? '');
          if (RETRY.has(code)) return this.socket.resubscribe(key);
          // No such session or thread (deleted, or a bad id): nothing more will come.
          closed = true;
          return onState('closed');
        }
        onData(f);
      },
    });
    return () => {
      remove();
      if (!closed) onState('closed');
    };
  }
}
