export { MessagingService, newThreadId } from './service.js';
export { MessagingLive, type MessagingNotice } from './live.js';
export { ThreadSubscription } from './thread-subscription.js';
export { handoff, handoffPrompt, newCorrelationId, type SessionPort } from './handoff.js';
export { createMessagingTools, MESSAGING_TOOL_SPECS } from './tools.js';
export { TaskStreamDeriver, type SessionInfo } from './task-stream.js';
export { TaskStreamFeed, type TaskStreamFeedDeps } from './task-stream-feed.js';
export { TelemetryTracker } from './telemetry.js';
export { MessagingRuntime, type MessagingRuntimeDeps } from './runtime.js';
