import type { ThreadMessage, WireEvent } from '../api/types.js';

/** The connection's state as the page shows it: "reconnecting" is visible, never silent. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** How live data reaches the page: the hub's WebSocket, SSE (sessions only), or polling (lists without the hub). */
export type Transport = 'hub' | 'sse' | 'poll';

export interface SessionFeedOptions {
  /** Where to resume after a drop: the transcript's highest contiguous seq. */
  from(): number;
  onEvents(events: WireEvent[]): void;
  onState(state: LiveState): void;
}

export interface ThreadFeedOptions {
  /** Where to resume: the highest contiguous message_seq shown. */
  from(): number;
  onMessages(messages: ThreadMessage[]): void;
  onState(state: LiveState): void;
}

/** The hub's broadcast topics the dashboard follows. */
export type TopicName = 'sessions' | 'threads' | 'runner' | 'telemetry' | 'inbox_message';

export interface TopicOptions {
  /** One frame of the topic: its type (`session_change`, `thread_state`, `runner`, …), data and time (unix ms). */
  onFrame(type: string, data: unknown, timestamp: number): void;
  /**
   * Called each time the topic becomes live, the first time and after every reconnect: frames sent
   * while the page was not connected are lost, so the page re-reads its list then and folds on.
   */
  onLive(): void;
  onState(state: LiveState): void;
}

/**
 * Live data behind one small interface, with two implementations: the hub (`/hub/ws`, resuming by
 * `from_seq`) and SSE (sessions only; lists poll). The transport only decides how data arrives: the
 * folds (transcript by seq, lists by seq or id) make any overlap or replay harmless, so resuming from
 * `from()` can never duplicate or lose a line.
 */
export interface LiveFeed {
  readonly transport: Transport;
  session(id: string, opts: SessionFeedOptions): () => void;
  /** Undefined when this transport cannot follow threads (the page polls instead). */
  thread?(id: string, opts: ThreadFeedOptions): () => void;
  /** Undefined when this transport has no broadcast topics (the page polls instead). */
  topic?(name: TopicName, opts: TopicOptions): () => void;
}

/** What the app-level chooser tells pages: which transport is current, and when it changes. */
export interface FeedSource {
  current(): LiveFeed;
  onChange(fn: () => void): () => void;
}
