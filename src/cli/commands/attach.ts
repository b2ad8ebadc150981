import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { lazyContext } from '../lazy-context.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
/** `tower attach <session> [--since N]`. */
export function registerAttach(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('attach')
    .description("follow a session's events live (reconnects by itself, Ctrl-C detaches); on a terminal, asks approvals in place")
    .argument('<session>', 'session id')
    .option('--since <seq>', 'replay the events after this seq first (default: only new events)')
    .action((sessionId: string, options: { since?: string }, command: Command) =>
      run(async () => (await import('./attach-run.js')).attach(await lazyContext(command, io), sessionId, options)),
    );
}
