import { isatty } from 'node:tty';
import { TerminalInput, type LineInput } from './line-input.js';
import type { Output } from './output.js';

export type { Output };

/** Where the CLI reads and writes; `nodeIo()` in production, a capturing fake in tests. */
export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  cwd: string;
  readStdin(): Promise<string>;
  /** Calls `handler` on the first Ctrl-C; returns a function that removes it. */
  onInterrupt(handler: () => void): () => void;
  /** Whether stdin is a terminal a person can answer prompts on (absent: not one). */
  stdin?: { readonly isTTY?: boolean };
  /** Line input on stdin with the prompts on stderr; only called when stdin is a TTY. */
  openLineInput?(): LineInput;
}

export function nodeIo(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    onInterrupt(handler) {
      // `once`: a second Ctrl-C gets Node's default handling and ends the process at once.
      process.once('SIGINT', handler);
      return () => process.off('SIGINT', handler);
    },
    // isatty(0) rather than process.stdin.isTTY: touching process.stdin opens it, which commands that
    // never read it have no use for.
    stdin: { isTTY: isatty(0) },
    // Ctrl-C at a prompt reaches readline, not the process: pass it on as the signal it would have been.
    openLineInput: () => new TerminalInput(process.stdin, process.stderr, () => process.kill(process.pid, 'SIGINT')),
  };
}

/** An abort signal that fires on Ctrl-C, for commands that stream until interrupted. */
export function interruptSignal(io: CliIO): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const dispose = io.onInterrupt(() => controller.abort());
  return { signal: controller.signal, dispose };
}

/**
 * Line input for prompts when a person can answer them: stdin is a TTY, and so is stderr (where prompts
 * go) and, with `needStdoutTTY`, stdout; the output is not `--json`. Undefined otherwise: the caller's
 * hint lines say how to answer instead.
 */
export function promptInput(io: CliIO, options: { json: boolean; needStdoutTTY: boolean }): LineInput | undefined {
  if (options.json || io.stdin?.isTTY !== true || io.stderr.isTTY !== true || !io.openLineInput) return undefined;
  if (options.needStdoutTTY && io.stdout.isTTY !== true) return undefined;
  return io.openLineInput();
}

/**
 * True when stdout and stderr both show on a terminal: a note on stderr then needs stdout's half-written
 * line ended first. When stdout is piped, its text is left exactly as streamed.
 */
export function sharesTerminal(io: CliIO): boolean {
  return io.stdout.isTTY === true && io.stderr.isTTY === true;
}
