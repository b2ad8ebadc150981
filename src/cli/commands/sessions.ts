import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { lazyContext } from '../lazy-context.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
/** `tower sessions ls|show|rm|export|import`. */
export function registerSessions(program: Command, io: CliIO, run: CommandRunner): void {
  const sessions = program.command('sessions').description('list, inspect, delete, export and import sessions');

  sessions
    .command('ls')
    .description('list sessions, newest first')
    .option('--limit <n>', 'how many sessions to list (1-200)')
    .action((options: { limit?: string }, command: Command) => run(async () => (await import('./sessions-run.js')).list(await lazyContext(command, io), options)));

  sessions
    .command('show')
    .description("a session's fields and conversation")
    .argument('<id>', 'session id')
    .action((id: string, _options: unknown, command: Command) => run(async () => (await import('./sessions-run.js')).show(await lazyContext(command, io), id)));

  sessions
    .command('rm')
    .description('delete sessions')
    .argument('<id...>', 'session ids')
    .action((ids: string[], _options: unknown, command: Command) => run(async () => (await import('./sessions-run.js')).remove(await lazyContext(command, io), ids)));

  sessions
    .command('export')
    .description('write a session (conversation and event log) as JSON')
    .argument('<id>', 'session id')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((id: string, options: { output?: string }, command: Command) =>
      run(async () => (await import('./sessions-run.js')).exportTo(await lazyContext(command, io), id, options)),
    );

  sessions
    .command('import')
    .description('create a session from an export, under its own id; prints the id')
    .argument('<file>', 'export file, or - for stdin')
    .option('--as-new', 'give it a new id, keeping everything else (to import on the server it came from)')
    .action((file: string, options: { asNew?: boolean }, command: Command) =>
      run(async () => (await import('./sessions-run.js')).importFrom(await lazyContext(command, io), file, options)),
    );
}
