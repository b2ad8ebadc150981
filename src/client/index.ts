export { TowerClient, type TowerClientOptions, type ListSessionsOptions, type CallOptions, type FollowOptions, type HealthBody } from './client.js';
export { TowerApiError, TowerConnectionError, TowerProtocolError, isAbortError, type ErrorIssue } from './errors.js';
export { followEvents, type EventStreamOptions, type ReconnectInfo } from './event-stream.js';
export { HttpTransport, type HttpOptions, type FetchLike, type RequestOptions } from './http.js';
export { SseParser, type SseMessage } from './sse-parser.js';
export { parseTowerEvent, toWireJson, type TowerEvent, type UnknownEvent } from './tower-event.js';
