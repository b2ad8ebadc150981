import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { OnBusy, StopReason } from '../../protocol/index.js';
import { createContext, type CommandContext, type CommandRunner } from '../context.js';
import { UsageError } from '../errors.js';
import { interruptSignal, sharesTerminal, type CliIO } from '../io.js';
import { openLiveView } from '../live-view.js';
import { reconnectedLine } from './attach.js';

interface SendOptions {
  model?: string;
  dir?: string;
  onBusy?: OnBusy;
}

/** Exit code of an interrupted command, as shells report Ctrl-C. */
const INTERRUPTED = 130;

async function send(ctx: CommandContext, target: string, words: string[], options: SendOptions): Promise<number> {
  const fromStdin = words.length === 1 && words[0] === '-';
  const text = fromStdin ? await ctx.io.readStdin() : words.join(' ');
  if (text.trim() === '') throw new UsageError('the message is empty');
  const sessionId = await resolveSession(ctx, target, options);
  const interrupt = interruptSignal(ctx.io);
  // Approvals and questions of the turn are asked in place when a person is at the terminal.
  const view = openLiveView(ctx, sessionId, { sessionEvents: false, needStdoutTTY: true, noPrompts: fromStdin });
  let stopped: StopReason | undefined;
  let dropped = false;
  try {
    const turn = ctx.client.sendAndFollow(sessionId, text, {
      onBusy: options.onBusy,
      signal: interrupt.signal,
      onReconnect: () => {
        if (sharesTerminal(ctx.io)) view.printer.finish();
        ctx.io.stderr.write(ctx.err.dim('connection lost; reconnecting…\n'));
      },
      onResumed: ({ lastSeq }) => ctx.io.stderr.write(ctx.err.dim(`${reconnectedLine(lastSeq)}\n`)),
    });
    for await (const event of turn) {
      view.show(event);
      if (event.type === 'stream_stopped') stopped = event.reason;
      if (event.type === 'queue_cleared') dropped = true;
    }
  } catch (error) {
    // Ctrl-C while the message was being posted surfaces as an abort error: it is a detach like any other.
    if (!interrupt.signal.aborted) throw error;
  } finally {
    interrupt.dispose();
    await view.close();
  }
  if (interrupt.signal.aborted) {
    ctx.io.stderr.write(ctx.err.dim(`detached; the turn goes on (tower attach ${sessionId})\n`));
    return INTERRUPTED;
  }
  if (dropped) {
    ctx.io.stderr.write(`${ctx.err.red('error:')} the queued message was dropped (its queue was cleared)\n`);
    return 1;
  }
  if (stopped === undefined) {
    ctx.io.stderr.write(`${ctx.err.red('error:')} the session was deleted during the turn\n`);
    return 1;
  }
  return stopped === 'normal' ? 0 : 1;
}

/** `new` creates a session (its id goes to stderr, so stdout stays the reply); else `--model` switches. */
async function resolveSession(ctx: CommandContext, target: string, options: SendOptions): Promise<string> {
  if (target === 'new') {
    const session = await ctx.client.createSession({
      model: options.model,
      working_dir: options.dir === undefined ? undefined : resolve(ctx.io.cwd, options.dir),
    });
    ctx.io.stderr.write(`${session.id}\n`);
    return session.id;
  }
  if (options.dir !== undefined) throw new UsageError('--dir only applies to a new session (tower send new …)');
  if (options.model !== undefined) await ctx.client.setModel(target, options.model);
  return target;
}

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
      run(() => send(createContext(command, io), target, words, options)),
    );
}
