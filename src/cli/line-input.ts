import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import type { Output } from './output.js';

/** Where interactive answers come from: a terminal in production, scripted lines in tests. */
export interface LineInput {
  /**
   * Shows `prompt` and resolves with the line typed (without its newline), or with `undefined` when
   * `signal` aborts first, the person presses Ctrl-C or Ctrl-D, or the input has ended. The prompt is
   * erased when it ends without an answer.
   */
  ask(prompt: string, signal: AbortSignal): Promise<string | undefined>;
  /**
   * An output that stays clear of an open prompt: while one shows, complete lines are written above it
   * (the prompt and what was typed so far are redrawn below) and a partial line waits until it completes
   * or the prompt ends. Meant for output that shares the prompt's terminal.
   */
  wrap(out: Output): Output;
  /** Ends any open prompt and lets go of the terminal. */
  close(): void;
}

/**
 * Line input on a terminal with Node's readline. The terminal is held (raw mode) only while a prompt is
 * open, so between prompts Ctrl-C reaches the process as usual; during one, readline sees it, the
 * prompt is erased and `onInterrupt` is called (later prompts then resolve at once: the command is ending).
 */
export class TerminalInput implements LineInput {
  private current: { rl: Interface; end: (answer: string | undefined) => void } | undefined;
  private readonly flushers = new Set<() => void>();
  private readonly midLine = new Set<() => boolean>();
  // After Ctrl-C at a prompt the command is ending: no more prompts in the meantime.
  private interrupted = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly onInterrupt: () => void,
  ) {}

  ask(prompt: string, signal: AbortSignal): Promise<string | undefined> {
    const ended = (this.input as { readableEnded?: boolean }).readableEnded === true;
    if (signal.aborted || ended || this.interrupted) return Promise.resolve(undefined);
    // One prompt at a time: a new question replaces an open one (the caller asks in sequence anyway).
    this.current?.end(undefined);
    if ([...this.midLine].some((isMidLine) => isMidLine())) this.output.write('\n');
    return new Promise((resolve) => {
      const rl = createInterface({ input: this.input, output: this.output, terminal: true, historySize: 0 });
      let done = false;
      const end = (answer: string | undefined, interrupted = false): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        if (answer === undefined) this.erase();
        this.current = undefined;
        rl.close();
        for (const flush of this.flushers) flush();
        resolve(answer);
        if (interrupted) {
          this.interrupted = true;
          this.onInterrupt();
        }
      };
      const onAbort = (): void => end(undefined);
      rl.once('line', (line) => end(line));
      rl.once('close', () => end(undefined));
      rl.on('SIGINT', () => end(undefined, true));
      signal.addEventListener('abort', onAbort, { once: true });
      this.current = { rl, end };
      rl.setPrompt(prompt);
      rl.prompt();
    });
  }

  wrap(out: Output): Output {
    let held = '';
    let atLineStart = true;
    this.flushers.add(() => {
      if (held !== '') out.write(held);
      held = '';
    });
    this.midLine.add(() => !atLineStart);
    return {
      isTTY: out.isTTY,
      write: (text) => {
        if (text === '') return;
        atLineStart = text.endsWith('\n');
        const rl = this.current?.rl;
        if (!rl) {
          out.write(text);
          return;
        }
        held += text;
        const cut = held.lastIndexOf('\n');
        if (cut === -1) return;
        this.erase();
        out.write(held.slice(0, cut + 1));
        held = held.slice(cut + 1);
        rl.prompt(true);
      },
    };
  }

  close(): void {
    this.current?.end(undefined);
  }

  private erase(): void {
    cursorTo(this.output, 0);
    clearLine(this.output, 0);
  }
}
