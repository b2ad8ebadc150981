import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { lazyContext } from '../lazy-context.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
/** `tower model <session> [model]`: list the models (the current one starred), or switch. */
export function registerModel(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('model')
    .description("list a session's models (current one starred), or switch it; a running turn switches at its next step")
    .argument('<session>', 'session id')
    .argument('[model]', 'provider/model to switch to')
    .action((sessionId: string, modelId: string | undefined, _options: unknown, command: Command) =>
      run(async () => (await import('./model-run.js')).model(await lazyContext(command, io), sessionId, modelId)),
    );
}
