import { Command, CommanderError } from 'commander';
import { colorsFor } from './color.js';
import { registerAnswers } from './commands/answers.js';
import { registerAttach } from './commands/attach.js';
import { registerControl } from './commands/control.js';
import { registerInbox } from './commands/inbox.js';
import { registerModel } from './commands/model.js';
import { registerRunner } from './commands/runner.js';
import { registerRunners } from './commands/runners.js';
import { registerRemote } from './commands/remote.js';
import { registerSend } from './commands/send.js';
import { registerServe } from './commands/serve.js';
import { registerSessions } from './commands/sessions.js';
import { registerThreads } from './commands/threads.js';
import type { CommandRunner } from './context.js';
import { DEFAULT_URL } from './options.js';
import type { CliIO } from './io.js';

/**
 * Runs the `tower` command line in-process and resolves with its exit code. It never calls
 * `process.exit`, so tests can run it and `tower serve` keeps running until the server stops.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const errColors = colorsFor(io.stderr, io.env);
  let exitCode = 0;
  const runner: CommandRunner = async (body) => {
    try {
      exitCode = await body();
    } catch (error) {
      // Imported here: it knows the client's error classes, which `--help` has no use for.
      const { formatError } = await import('./errors.js');
      io.stderr.write(formatError(errColors, error));
      exitCode = 1;
    }
  };

  const program = new Command('tower')
    .description('Tower: a control tower for AI-agent sessions')
    .option('--url <url>', `Tower server URL (env TOWER_URL, default ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (env TOWER_TOKEN)')
    .option('--json', 'machine-readable output: one JSON document, or JSON lines for streams')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(errColors.red(text)),
    })
    // Subcommands created after this inherit it: parse errors and --help come back as exceptions.
    .exitOverride();

  registerServe(program, runner);
  registerSessions(program, io, runner);
  registerSend(program, io, runner);
  registerAttach(program, io, runner);
  registerControl(program, io, runner);
  registerAnswers(program, io, runner);
  registerModel(program, io, runner);
  registerThreads(program, io, runner);
  registerInbox(program, io, runner);
  registerRunner(program, runner);
  registerRunners(program, io, runner);
  registerRemote(program, io, runner);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  return exitCode;
}
