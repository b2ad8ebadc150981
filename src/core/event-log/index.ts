export { EventLog } from './event-log.js';
export { StoredPage, batchEvents, type EventBatch, type PageCacheOptions } from './pages.js';
export type {
  AppendEffects,
  EventLogOptions,
  EventSink,
  EventSubscription,
  SinkSubscription,
  SubscribeOptions,
  SubscriptionStats,
} from './types.js';
