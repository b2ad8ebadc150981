import os from 'node:os';
import { resolveRunnerConfig, redactUrl, type RunnerFlags } from './config.js';
import { createRunnerLogger } from './log.js';
import { startRunner } from './runner.js';

/**
 * The body of `tower runner`: resolves the settings, runs until SIGINT or SIGTERM, then stops cleanly
 * (running tasks canceled, their results delivered or kept on disk). Resolves with the exit code.
 */
export async function runRunnerCli(flags: RunnerFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = await resolveRunnerConfig(flags, env, process.cwd(), os.hostname());
  const log = createRunnerLogger();
  log.info({ url: redactUrl(config.url), name: config.name, labels: config.labels, workspace: config.workspace }, 'runner: starting');
  const runner = await startRunner(config, log);
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  log.info('runner: stopping');
  await runner.stop();
  return 0;
}
