export {
  TowerClient,
  isQueued,
  type TowerClientOptions,
  type ListSessionsOptions,
  type CallOptions,
  type FollowOptions,
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
export { TowerApiError, TowerConnectionError, TowerProtocolError, isAbortError, parseRetryAfter, type ErrorIssue } from './errors.js';
export { followEvents, type EventStreamOptions, type ReconnectInfo } from './event-stream.js';
export { followSentTurn } from './follow-turn.js';
export { HttpTransport, type HttpOptions, type FetchLike, type RequestOptions } from './http.js';
export { SseParser, type SseMessage } from './sse-parser.js';
export { parseTowerEvent, toWireJson, type TowerEvent, type UnknownEvent } from './tower-event.js';
export * as remote from './remote/index.js';
