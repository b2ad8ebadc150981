import type { CliIO, Output } from '../io.js';
import type { LineInput } from '../line-input.js';

/** A `CliIO` that records what a command writes, for running the CLI in-process in tests. */
export interface Captured {
  io: CliIO;
  stdout(): string;
  stderr(): string;
  /** Simulates Ctrl-C. */
  interrupt(): void;
}

export interface CaptureOptions {
  stdin?: string;
  env?: Record<string, string>;
  /** Pretend stdin, stdout and stderr are terminals, with this as the line input. */
  terminal?: LineInput;
}

export function capture(options: CaptureOptions = {}): Captured {
  let out = '';
  let err = '';
  const handlers = new Set<() => void>();
  const tty = options.terminal !== undefined;
  const stdout: Output = { isTTY: tty, write: (text) => void (out += text) };
  const stderr: Output = { isTTY: tty, write: (text) => void (err += text) };
  const terminal = options.terminal;
  return {
    io: {
      stdout,
      stderr,
      env: options.env ?? {},
      cwd: '/home/me/project',
      readStdin: async () => options.stdin ?? '',
      onInterrupt(handler) {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
      stdin: { isTTY: tty },
      ...(terminal ? { openLineInput: () => terminal } : {}),
    },
    stdout: () => out,
    stderr: () => err,
    interrupt: () => handlers.forEach((handler) => handler()),
  };
}

/** Polls `condition` every 10 ms, failing after 5 s. */
export async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5_000) throw new Error(`not met in 5 s: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Line input driven by the test: `ask` records the prompt and waits; `type` answers the open prompt.
 * An abort resolves the prompt with `undefined`, as the terminal does.
 */
export class ScriptedInput implements LineInput {
  readonly prompts: string[] = [];
  /** Prompts that ended by abort rather than an answer. */
  readonly aborted: string[] = [];
  private pending: { prompt: string; resolve: (line: string | undefined) => void } | undefined;

  get asking(): string | undefined {
    return this.pending?.prompt;
  }

  ask(prompt: string, signal: AbortSignal): Promise<string | undefined> {
    this.prompts.push(prompt);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.pending = undefined;
        this.aborted.push(prompt);
        resolve(undefined);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending = {
        prompt,
        resolve: (line) => {
          signal.removeEventListener('abort', onAbort);
          this.pending = undefined;
          resolve(line);
        },
      };
    });
  }

  /** Answers the open prompt; throws when none is open. */
  type(line: string): void {
    if (!this.pending) throw new Error(`no prompt open to type ${JSON.stringify(line)} into`);
    this.pending.resolve(line);
  }

  wrap(out: Output): Output {
    return out;
  }

  close(): void {
    this.pending?.resolve(undefined);
  }
}
