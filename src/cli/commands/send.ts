import { Option, type Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { lazyContext } from '../lazy-context.js';
import type { SendOptions } from './send-run.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
/** `tower send <session|new> <text...>`. */
export function registerSend(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('send')
    .description('send a message and print the reply as it streams; on a terminal, asks for approvals in place')
    .argument('<session>', 'session id, or "new" to create a session (its id is printed on stderr)')
    .argument('<text...>', 'the message (words are joined by spaces; - reads stdin)')
    .option('--model <provider/model>', 'model for the new session, or switch an existing session to it')
    .option('--dir <path>', 'working directory of the new session (default: the server default)')
    .addOption(
      new Option('--on-busy <mode>', 'when a turn is running: reject (default), enqueue (run after it) or interrupt it').choices([
        'reject',
        'enqueue',
        'interrupt',
      ]),
    )
    .action((target: string, words: string[], options: SendOptions, command: Command) =>
      run(async () => (await import('./send-run.js')).send(await lazyContext(command, io), target, words, options)),
    );
}
