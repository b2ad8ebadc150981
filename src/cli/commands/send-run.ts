import { resolve } from 'node:path';
import type { OnBusy, StopReason } from '../../protocol/index.js';
import { type CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { interruptSignal, sharesTerminal } from '../io.js';
import { openLiveView } from '../live-view.js';
import { reconnectedLine } from './attach-run.js';

export interface SendOptions {
  model?: string;
  dir?: string;
  onBusy?: OnBusy;
}

/** Exit code of an interrupted command, as shells report Ctrl-C. */
const INTERRUPTED = 130;

export async function send(ctx: CommandContext, target: string, words: string[], options: SendOptions): Promise<number> {
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
