import type { Command } from 'commander';
import { createContext, parseCount, type CommandContext, type CommandRunner } from '../context.js';
import { interruptSignal, sharesTerminal, type CliIO } from '../io.js';
import { createPrinter } from '../render.js';

async function attach(ctx: CommandContext, sessionId: string, options: { since?: string }): Promise<number> {
  // Without --since, start at the current end of the log; the lookup also fails fast on a wrong id.
  const since =
    options.since === undefined
      ? (await ctx.client.getSession(sessionId)).last_event_seq
      : parseCount('--since', options.since);
  const interrupt = interruptSignal(ctx.io);
  const printer = createPrinter({ json: ctx.json, out: ctx.io.stdout, colors: ctx.out, sessionEvents: true });
  ctx.io.stderr.write(ctx.err.dim(`attached to ${sessionId} after event ${since}; Ctrl-C to detach\n`));
  try {
    const events = ctx.client.events(sessionId, {
      since,
      signal: interrupt.signal,
      onReconnect: ({ attempt, delayMs, lastSeq }) => {
        if (sharesTerminal(ctx.io)) printer.finish();
        const resume = lastSeq === undefined ? '' : `, resuming after event ${lastSeq}`;
        ctx.io.stderr.write(ctx.err.dim(`connection lost; reconnecting in ${delayMs} ms (attempt ${attempt}${resume})\n`));
      },
    });
    for await (const event of events) printer.print(event);
  } finally {
    interrupt.dispose();
    printer.finish();
  }
  return 0;
}

/** `tower attach <session> [--since N]`. */
export function registerAttach(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('attach')
    .description("follow a session's events live; reconnects by itself, Ctrl-C detaches")
    .argument('<session>', 'session id')
    .option('--since <seq>', 'replay the events after this seq first (default: only new events)')
    .action((sessionId: string, options: { since?: string }, command: Command) =>
      run(() => attach(createContext(command, io), sessionId, options)),
    );
}
