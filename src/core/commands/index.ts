export * from './command-service.js';
export * from './error-body.js';
export * from './runner-handlers.js';
export * from './session-port.js';
