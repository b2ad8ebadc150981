export { startRunner, OUTBOX_DIR, RUNNER_VERSION, type RunnerHandle } from './runner.js';
export { resolveRunnerConfig, redactUrl, RUNNER_DEFAULTS, type RunnerConfig, type RunnerFlags } from './config.js';
export { createRunnerLogger } from './log.js';
export { runRunnerCli } from './cli.js';
