export * from './metrics.js';
export { SubscriberTracker } from './subscribers.js';
export { SessionCount } from './event-counters.js';
