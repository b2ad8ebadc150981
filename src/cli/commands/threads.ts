import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
export function registerThreads(program: Command, io: CliIO, run: CommandRunner): void {
  const threads = program.command('threads').description('threads shared by agents and people (seed 001 messaging)');
  threads
    .command('ls')
    .description('list threads, most recently updated first')
    .option('--status <status>', 'only active, paused, resolved or archived')
    .action((o: { status?: string }, command: Command) => run(async () => (await import('./threads-run.js')).list((await import('./messaging-context.js')).messagingContext(command, io), o.status)));
  threads
    .command('show')
    .description("a thread's state and messages")
    .argument('<thread>', 'thread id')
    .option('--after <seq>', 'messages after this message_seq')
    .option('--limit <n>', 'at most this many messages')
    .action((id: string, o: { after?: string; limit?: string }, command: Command) => run(async () => (await import('./threads-run.js')).show((await import('./messaging-context.js')).messagingContext(command, io), id, o)));
  threads
    .command('post')
    .description('post a message into a thread')
    .argument('<thread>', 'thread id')
    .argument('<content...>', 'the message')
    .option('--kind <kind>', 'directive, question, proposal, status or result')
    .option('--subject <subject>', 'a subject line')
    .option('--from <id>', 'your id (default $USER)')
    .option('--create', 'create the thread first if it does not exist')
    .action((id: string, words: string[], o: { kind?: string; subject?: string; from?: string; create?: boolean }, command: Command) =>
      run(async () => (await import('./threads-run.js')).post((await import('./messaging-context.js')).messagingContext(command, io), id, words, o)),
    );
  threads
    .command('watch')
    .description('print stored messages, then new ones as they arrive (over the hub) until Ctrl-C')
    .argument('<thread>', 'thread id')
    .option('--from-seq <seq>', 'start after this message_seq')
    .option('--client-id <id>', 'acknowledge what was shown, and resume after it next time')
    .action((id: string, o: { fromSeq?: string; clientId?: string }, command: Command) => run(async () => (await import('./threads-run.js')).watch((await import('./messaging-context.js')).messagingContext(command, io), id, o)));
}
