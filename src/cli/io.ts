/** Where the CLI reads and writes; `nodeIo()` in production, a capturing fake in tests. */
export interface Output {
  write(text: string): void;
  readonly isTTY?: boolean;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  cwd: string;
  readStdin(): Promise<string>;
  /** Calls `handler` on the first Ctrl-C; returns a function that removes it. */
  onInterrupt(handler: () => void): () => void;
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
  };
}

/** An abort signal that fires on Ctrl-C, for commands that stream until interrupted. */
export function interruptSignal(io: CliIO): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const dispose = io.onInterrupt(() => controller.abort());
  return { signal: controller.signal, dispose };
}

/**
 * True when stdout and stderr both show on a terminal: a note on stderr then needs stdout's half-written
 * line ended first. When stdout is piped, its text is left exactly as streamed.
 */
export function sharesTerminal(io: CliIO): boolean {
  return io.stdout.isTTY === true && io.stderr.isTTY === true;
}
