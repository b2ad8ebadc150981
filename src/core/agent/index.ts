export * from './agent-loop.js';
export * from './tool-calls.js';
export * from './turn-types.js';
export * from './turn-writer.js';
export * from './system-prompt.js';
export * from './step-ends.js';
