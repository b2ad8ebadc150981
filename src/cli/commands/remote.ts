import type { Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';

// Registration only: the remote code (and the ZeroMQ addon behind it) is imported when a command runs.
/**
 * `tower instances` and `tower remote <instance-id|endpoint> …`: Tower and Pando instances on this
 * machine, controlled over the ZeroMQ bus (an instance id or `tcp://host:rpc_port`) or Tower's HTTP API
 * (an `http://` URL).
 */
export function registerRemote(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('instances')
    .description('list Tower and Pando instances on this machine (from the shared registry)')
    .option('--registry-dir <dir>', 'registry folder (default $TOWER_PANDO_REGISTRY_DIR or /tmp/pando-instances)')
    .action((_o: unknown, command: Command) => run(async () => (await import('./remote-run.js')).runInstances(command, io)));

  program
    .command('remote <target> <action> [args...]')
    .description('control an instance; target: instance id (or prefix), tcp://host:rpc_port, or http://url')
    .option('--registry-dir <dir>', 'registry folder to resolve instance ids in')
    .addHelpText(
      'after',
      '\nActions:\n  sessions                       list its sessions\n  send <session-id> <text...>    send a message (starts a turn, or queues behind the running one)\n' +
        '  interrupt <session-id>         stop the running turn\n  watch [session-id]             mirror it and print live events (Ctrl-C stops)\n',
    )
    .action((target: string, action: string, args: string[], _o: unknown, command: Command) =>
      run(async () => (await import('./remote-run.js')).runRemote(command, io, target, action, args)),
    );
}
