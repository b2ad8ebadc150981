import type { Command } from 'commander';
import type { RunnerFlags } from '../../runner/worker/config.js';
import type { CommandRunner } from '../context.js';

/** The runner's own flags (`--url` and `--token` are the program's). */
type RunnerCommandFlags = Pick<RunnerFlags, 'name' | 'labels' | 'workspace' | 'allow' | 'deny' | 'allowPrivateNet' | 'config'>;

/**
 * `tower runner`: the remote worker. The worker is imported only when the command runs, so the other
 * commands never load it, and it loads protocol/ and runner/ only (no server, store or model code).
 * `--url` and `--token` are the program's global options, read here with the runner's own meaning.
 */
export function registerRunner(program: Command, run: CommandRunner): void {
  program
    .command('runner')
    .description('run a remote runner: execute tool calls for a Tower server (--url ws://host:port/runners/ws)')
    .option('--name <name>', 'runner name (env TOWER_RUNNER_NAME, default: the hostname)')
    .option('--labels <a,b>', 'comma-separated labels sessions can route by (env TOWER_RUNNER_LABELS)')
    .option('--workspace <dir>', 'directory every operation is confined to (env TOWER_RUNNER_WORKSPACE, default: .)')
    .option('--allow <pattern...>', 'bash commands allowed (env TOWER_RUNNER_ALLOW, one per line); with any, all others are refused')
    .option('--deny <pattern...>', 'bash commands refused (env TOWER_RUNNER_DENY, one per line)')
    .option('--allow-private-net', 'let webfetch reach loopback, private and link-local addresses (env TOWER_RUNNER_ALLOW_PRIVATE_NET=1)')
    .option('--sandbox <mode>', 'how bash is contained: auto (bubblewrap where it works), bwrap or none (env TOWER_RUNNER_SANDBOX)')
    .option('--network', 'let sandboxed commands use the network (env TOWER_RUNNER_NETWORK=1)')
    .option('--config <file>', 'JSON config file (env TOWER_RUNNER_CONFIG)')
    .addHelpText(
      'after',
      '\nThe global --url is the gateway (env TOWER_RUNNER_URL), the global --token the runner token (env TOWER_RUNNER_TOKEN).\n',
    )
    .action((flags: RunnerCommandFlags, command: Command) =>
      run(async () => {
        const globals = command.optsWithGlobals<{ url?: string; token?: string }>();
        const { runRunnerCli } = await import('../../runner/worker/index.js');
        return runRunnerCli({
          ...flags,
          ...(globals.url !== undefined ? { url: globals.url } : {}),
          ...(globals.token !== undefined ? { token: globals.token } : {}),
        });
      }),
    );
}
