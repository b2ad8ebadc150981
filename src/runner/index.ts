export { createServerExecutor, ExecutorConfig } from './server-executor.js';
export { reapOrphanedCommands, type RunnerLogger } from './reap.js';
export { createProcessRegistry, MemoryProcessRegistry, type ProcessRecord, type ProcessRegistry } from './process-registry.js';
