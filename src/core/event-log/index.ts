export type { DataJson } from '../../bus/types.js';
export { EventLog } from './event-log.js';
export { FramedPage, StoredPage, batchEvents, type EventBatch, type FramedBatch, type PageCacheOptions } from './pages.js';
export type {
  AppendEffects,
  EventLogOptions,
  EventSink,
  EventSubscription,
  FramedSink,
  SinkSubscription,
  SubscribeOptions,
  SubscriptionStats,
} from './types.js';
