import type { TowerEvent } from '../client/index.js';
import type { CommandContext } from './context.js';
import { promptInput, sharesTerminal } from './io.js';
import { ControlPrompts } from './prompts.js';
import { createPrinter, type EventPrinter } from './render.js';

/** The printer for a followed session and, on a terminal, the prompts that answer its requests. */
export interface LiveView {
  printer: EventPrinter;
  /** Present when requests are asked interactively. */
  prompts: ControlPrompts | undefined;
  /** Prints an event and hands it to the prompts. */
  show(event: TowerEvent): void;
  /** Ends the open prompt, waits for an answer being sent, ends the last line and frees the terminal. */
  close(): Promise<void>;
}

export interface LiveViewOptions {
  /** Print session events too (`attach`). */
  sessionEvents: boolean;
  /** Prompt only when stdout is a terminal as well (`send`, whose stdout is the reply). */
  needStdoutTTY: boolean;
  /** Never prompt (stdin was read for the message). */
  noPrompts?: boolean;
  /** Events up to this seq are a replay: not asked about (see `ControlPrompts`). */
  liveAfter?: number;
}

export function openLiveView(ctx: CommandContext, sessionId: string, options: LiveViewOptions): LiveView {
  const { io } = ctx;
  const input = options.noPrompts ? undefined : promptInput(io, { json: ctx.json, needStdoutTTY: options.needStdoutTTY });
  // Events written while a prompt shows go above it when both share the terminal.
  const out = input && sharesTerminal(io) ? input.wrap(io.stdout) : io.stdout;
  const printer = createPrinter({ json: ctx.json, out, colors: ctx.out, sessionEvents: options.sessionEvents });
  const prompts =
    input &&
    new ControlPrompts({
      client: ctx.client,
      sessionId,
      input,
      colors: ctx.err,
      note: (text) => {
        if (sharesTerminal(io)) printer.finish();
        io.stderr.write(`${text}\n`);
      },
      liveAfter: options.liveAfter,
    });
  return {
    printer,
    prompts,
    show(event) {
      printer.print(event);
      prompts?.handle(event);
    },
    async close() {
      try {
        await prompts?.close();
      } finally {
        input?.close();
        printer.finish();
      }
    },
  };
}
