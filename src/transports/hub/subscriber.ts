import type { FeedTarget } from './feeds.js';
import type { HubErrorCode, Topic } from './frames.js';
import type { OutFrame } from './ws-frame.js';

/**
 * What the subscription registry needs of a hub connection. `HubConnection` implements it; keeping it
 * separate lets the registry and the connection depend on each other's shape, not on each other's module.
 */
export interface HubSubscriber extends FeedTarget {
  readonly closed: boolean;
  readonly clientId: string | undefined;
  readonly topics: Set<Topic>;
  readonly subs: Map<string, { close(): void }>;
  subKeys(): readonly string[];
  topicList(): readonly Topic[];
  send(frame: OutFrame): void;
  /** Replaces a not-yet-sent frame with the same key (thread_state, telemetry): only the latest matters. */
  sendState(key: string, frame: OutFrame): void;
  sendBroadcast(frame: OutFrame): void;
  error(code: HubErrorCode, message: string, extra?: Record<string, unknown>): void;
}
