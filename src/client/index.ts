export {
  TowerClient,
  isQueued,
  type TowerClientOptions,
  type ListSessionsOptions,
  type CallOptions,
  type FollowOptions,
  type ImportOptions,
  type HealthBody,
  type SendOptions,
  type SendAndFollowOptions,
  type FollowupOptions,
  type InterruptOptions,
  type StatusOptions,
  type ApprovalScope,
  type Resolved,
  type AutoApproveState,
} from './client.js';
export {
  TowerApiError,
  TowerConnectionError,
  TowerProtocolError,
  isAbortError,
  parseRetryAfter,
  type ApiErrorCode,
  type ErrorIssue,
} from './errors.js';
export { followEvents, type EventStreamOptions, type ReconnectInfo, type ResumedInfo } from './event-stream.js';
export { followSentTurn } from './follow-turn.js';
export { HttpTransport, type HttpOptions, type FetchLike, type RequestOptions } from './http.js';
export { SseReader, type SseMessage } from './sse-reader.js';
export { parseTowerEvent, toWireJson, type TowerEvent, type UnknownEvent } from './tower-event.js';
export { MessagingClient, type PostInput, type WatchThreadOptions } from './messaging.js';
export * as remote from './remote/index.js';
