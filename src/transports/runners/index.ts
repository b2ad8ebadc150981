export { RunnerGateway, RUNNERS_WS_PATH, type DispatchOptions, type RunnerGatewayOptions } from './gateway.js';
export { RunnerRegistry, type RunnerInfo } from './registry.js';
export { hashRunnerToken, newRunnerToken, staticTokenVerifier, storeTokenVerifier, type RunnerTokenRecord, type RunnerTokenVerifier } from './tokens.js';
export { RunnerToolExecutor, type RunnerExecutorOptions } from './remote-executor.js';
export { runnersTransport, type RunningRunners, type RunnersTransportOverrides } from './starter.js';
export type { RemoteRunner, RemoteRunnerDirectory, RunnerDirectoryFactory } from './directory.js';
