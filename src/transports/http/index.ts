export * from './app.js';
export * from './auth.js';
export * from './deps.js';
export * from './errors.js';
export * from './server.js';
export * from './starting.js';
export * from './sse.js';
export * from './sse-node.js';
