export type { Bus, BusListener, BusSubscribeOptions, DataJson } from './types.js';
export { MemoryBus } from './memory.js';
export { RedisBus, openRedisBus, type RedisBusOptions } from './redis.js';
