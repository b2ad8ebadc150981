export { busTransport, startBus, HEARTBEAT_MS, type BusOptions, type RunningBus } from './bus.js';
export { acquireLock, lockPath, pidAlive, registryDir, type HeldLock, type LockInfo } from './discovery.js';
export { dispatch, RpcFailure, type MethodTable, type RpcAnswer } from './rpc-dispatch.js';
export { BUS_BIND_FAILED, BusBindError, BusRecovery, type BusStatus } from './bus-recovery.js';
