import { parseCount, type CommandContext } from '../context.js';
import { formatConfirmationRequest, formatQuestion } from '../control-lines.js';
import { interruptSignal, sharesTerminal } from '../io.js';
import { openLiveView } from '../live-view.js';

/** `reconnected (resumed after event 12)`, or without the seq when the stream had none yet. */
export function reconnectedLine(lastSeq: number | undefined): string {
  return lastSeq === undefined ? 'reconnected' : `reconnected (resumed after event ${lastSeq})`;
}

export async function attach(ctx: CommandContext, sessionId: string, options: { since?: string }): Promise<number> {
  // The status gives the current end of the log and what waits for a person; it also fails fast on a wrong id.
  const status = await ctx.client.status(sessionId);
  const since = options.since === undefined ? status.last_event_seq : parseCount('--since', options.since);
  const interrupt = interruptSignal(ctx.io);
  const view = openLiveView(ctx, sessionId, { sessionEvents: true, needStdoutTTY: false, liveAfter: status.last_event_seq });
  ctx.io.stderr.write(ctx.err.dim(`attached to ${sessionId} after event ${since}; Ctrl-C to detach\n`));
  // Requests made before the live point: listed (a replay with --since shows them in place), and asked.
  if (!ctx.json && options.since === undefined) {
    for (const request of status.pending_confirmations) ctx.io.stdout.write(`${formatConfirmationRequest(ctx.out, sessionId, request)}\n`);
    for (const request of status.pending_elicitations) ctx.io.stdout.write(`${formatQuestion(ctx.out, sessionId, request)}\n`);
  }
  view.prompts?.seed(status);
  try {
    const events = ctx.client.events(sessionId, {
      since,
      signal: interrupt.signal,
      onReconnect: ({ attempt, delayMs, lastSeq }) => {
        if (sharesTerminal(ctx.io)) view.printer.finish();
        const resume = lastSeq === undefined ? '' : `, resuming after event ${lastSeq}`;
        ctx.io.stderr.write(ctx.err.dim(`connection lost; reconnecting in ${delayMs} ms (attempt ${attempt}${resume})\n`));
      },
      onResumed: ({ lastSeq }) => ctx.io.stderr.write(ctx.err.dim(`${reconnectedLine(lastSeq)}\n`)),
    });
    for await (const event of events) view.show(event);
  } finally {
    interrupt.dispose();
    await view.close();
  }
  return 0;
}
