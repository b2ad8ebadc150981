export * from './events.js';
export * from './conversation.js';
export * from './session.js';
export * from './errors.js';
export * from './api.js';
export * from './messaging.js';
export * from './telemetry.js';
export type * from './tools.js';
