export type { Bus, BusListener } from './types.js';
export { MemoryBus } from './memory.js';
