export { EventLog } from './event-log.js';
export type {
  AppendEffects,
  EventLogOptions,
  EventSubscription,
  SubscribeOptions,
  SubscriptionStats,
} from './types.js';
