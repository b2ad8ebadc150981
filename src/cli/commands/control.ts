import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { lazyContext } from '../lazy-context.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
/** `tower steer|followup|interrupt|queue|status`: driving a session while it works. */
export function registerControl(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('steer')
    .description('inject messages into the running turn; the model sees them before its next step')
    .argument('<session>', 'session id')
    .argument('<text...>', 'one message per argument (quote each); - reads one from stdin')
    .action((sessionId: string, texts: string[], _options: unknown, command: Command) =>
      run(async () => (await import('./control-run.js')).steer(await lazyContext(command, io), sessionId, texts)),
    );

  program
    .command('followup')
    .description('queue messages that each start a turn once the current one ends (at once when idle)')
    .argument('<session>', 'session id')
    .argument('<text...>', 'one message per argument (quote each); - reads one from stdin')
    .option('--key <key>', 'idempotency key: retrying with the same key does not queue twice')
    .action((sessionId: string, texts: string[], options: { key?: string }, command: Command) =>
      run(async () => (await import('./control-run.js')).followup(await lazyContext(command, io), sessionId, texts, options)),
    );

  program
    .command('interrupt')
    .description('stop the running turn; queued follow-ups still run after it (--clear-queue drops them)')
    .argument('<session>', 'session id')
    .option('--clear-queue', 'also drop the queued steers and follow-ups')
    .action((sessionId: string, options: { clearQueue?: boolean }, command: Command) =>
      run(async () => (await import('./control-run.js')).interrupt(await lazyContext(command, io), sessionId, options)),
    );

  program
    .command('queue')
    .description("a session's steer and follow-up queues")
    .argument('<session>', 'session id')
    .action((sessionId: string, _options: unknown, command: Command) => run(async () => (await import('./control-run.js')).queue(await lazyContext(command, io), sessionId)));

  program
    .command('status')
    .description('running or idle, pending approvals and questions, queue depths')
    .argument('<session>', 'session id')
    .option('--wait <duration>', 'first wait up to this long (at most 60s) for the running turn to end, e.g. 10s')
    .action((sessionId: string, options: { wait?: string }, command: Command) =>
      run(async () => (await import('./control-run.js')).status(await lazyContext(command, io), sessionId, options)),
    );
}
