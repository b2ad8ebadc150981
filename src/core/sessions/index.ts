export * from './session-manager.js';
export * from './active-sessions.js';
export * from './recovery.js';
export * from './titles.js';
export * from './transfer.js';
