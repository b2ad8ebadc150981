import type { ToolExecutor } from '../protocol/tools.js';
import { SandboxMode } from '../protocol/session.js';
import { z } from 'zod';
import { scrubInitialEnvironment } from './environ-scrub.js';
import { createLocalExecutor } from './executor/executor.js';
import { ENV_NAME } from './executor/tool-env.js';
import { createProcessRegistry } from './process-registry.js';
import type { RunnerLogger } from './reap.js';

/** The config-file keys the executor reads (the server's ConfigFile merges them in). */
export const ExecutorConfig = z.object({
  sandbox: SandboxMode.optional(),
  network: z.boolean().optional(),
  tool_env: z.array(z.string().regex(ENV_NAME, 'must be an environment variable name')).optional(),
  /** webfetch may reach loopback, private, link-local and CGNAT addresses (default: refused). */
  allow_private_net: z.boolean().optional(),
});
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;

/**
 * The executor a server uses: commands recorded under `<dataDir>/procs` (reaped at the next start), the
 * data dir hidden from sandboxed commands, and sandbox, network, environment and webfetch's reach from the
 * config file. Creating one clears the process's initial environment block (environ-scrub.ts).
 */
export function createServerExecutor(opts: { dataDir: string; config: ExecutorConfig; logger: RunnerLogger }): ToolExecutor {
  const config = ExecutorConfig.parse(opts.config);
  // Before any command runs: a sandbox-none command must not read the server's secrets in /proc/<pid>/environ.
  const scrub = scrubInitialEnvironment();
  if (!scrub.scrubbed) opts.logger.warn({ reason: scrub.reason }, 'could not clear the initial environment block; same-user commands may read it');
  return createLocalExecutor({
    processes: createProcessRegistry(opts.dataDir),
    sandbox: config.sandbox ?? 'auto',
    network: config.network ?? false,
    envAllow: config.tool_env ?? [],
    hide: [opts.dataDir],
    logger: opts.logger,
    web: { allowPrivateNet: config.allow_private_net ?? false },
  });
}
