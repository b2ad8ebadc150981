import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
export function registerRunners(program: Command, io: CliIO, run: CommandRunner): void {
  const runners = program.command('runners').description('remote runners: their tokens and status');
  const go = (command: Command) => import('./runners-run.js').then((m) => m.runnersContext(command, io));
  runners
    .command('ls')
    .description('runners this server has seen: online or offline, labels, last heartbeat, running tasks')
    .action((_o: unknown, command: Command) => run(async () => (await import('./runners-run.js')).list(await go(command))));
  const token = runners.command('token').description('tokens runners connect with');
  token
    .command('create')
    .description('create a token (printed once: keep it; Tower stores only its sha256)')
    .requiredOption('--name <name>', "the runner's name")
    .option('--labels <labels>', 'comma-separated labels, e.g. linux,gpu')
    .action((o: { name: string; labels?: string }, command: Command) => run(async () => (await import('./runners-run.js')).createToken(await go(command), o)));
  token
    .command('ls')
    .description('tokens, revoked ones included')
    .action((_o: unknown, command: Command) => run(async () => (await import('./runners-run.js')).listTokens(await go(command))));
  token
    .command('revoke')
    .description("revoke a token; its runner is disconnected at once")
    .argument('<id>', 'token id (as listed)')
    .action((id: string, _o: unknown, command: Command) => run(async () => (await import('./runners-run.js')).revokeToken(await go(command), id)));
}
