import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
export function registerInbox(program: Command, io: CliIO, run: CommandRunner): void {
  const inbox = program.command('inbox').description("an inbox's messages (a session's inbox is named by its id)");
  inbox
    .command('ls')
    .description('list the messages of an inbox, oldest first')
    .argument('<inbox>', 'inbox name')
    .option('--status <status>', 'only unread, read or archived')
    .action((name: string, o: { status?: string }, command: Command) => run(async () => (await import('./inbox-run.js')).list((await import('./messaging-context.js')).messagingContext(command, io), name, o.status)));
  inbox
    .command('read')
    .description('show one message and mark it read')
    .argument('<inbox>', 'inbox name')
    .argument('<id>', 'message id')
    .action((name: string, id: string, _o: unknown, command: Command) => run(async () => (await import('./inbox-run.js')).read((await import('./messaging-context.js')).messagingContext(command, io), name, id)));
  inbox
    .command('reply')
    .description("answer a message: the reply goes to its sender's inbox with the same correlation id")
    .argument('<inbox>', 'inbox name')
    .argument('<id>', 'message id')
    .argument('<payload...>', 'the answer')
    .option('--from <id>', 'who answers (default: the inbox name)')
    .action((name: string, id: string, words: string[], o: { from?: string }, command: Command) =>
      run(async () => (await import('./inbox-run.js')).reply((await import('./messaging-context.js')).messagingContext(command, io), name, id, words, o.from)),
    );
}
