export * from './config.js';
export * from './tower.js';
export * from './token.js';
export { VERSION } from './version.js';
