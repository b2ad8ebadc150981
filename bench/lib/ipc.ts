/**
 * The child side of proc.ts: answers the parent's requests with handlers, exits when the parent goes
 * away or asks, and after a maximum lifetime whatever happens (load generators stop by themselves).
 */
export type Request = { type: string; id: number } & Record<string, unknown>;
export type Handler = (msg: Request) => unknown;

export function serveParent(
  handlers: Record<string, Handler>,
  opts: { onExit?: () => Promise<void> | void; maxLifetimeMs?: number } = {},
): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('this file is a benchmark child: run it through bench/run.ts or a bench/*.ts benchmark\n');
    process.exit(2);
  }
  let exiting = false;
  const exit = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    try {
      await opts.onExit?.();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${String(err)}\n`);
    }
    process.exit(code);
  };
  process.on('disconnect', () => void exit(0));
  const lifetime = setTimeout(() => {
    process.stderr.write('benchmark child: maximum lifetime reached, exiting\n');
    void exit(3);
  }, opts.maxLifetimeMs ?? 8 * 60_000);
  lifetime.unref();

  process.on('message', (raw) => {
    const msg = raw as Request;
    if (msg.type === 'exit') {
      void exit(0);
      return;
    }
    const handler = handlers[msg.type];
    if (!handler) {
      send({ type: 'reply', id: msg.id, error: `unknown request ${msg.type}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(msg))
      .then(
        (result) => send({ type: 'reply', id: msg.id, ...(result as object | undefined) }),
        (err: unknown) =>
          send({ type: 'reply', id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
}

/** An unsolicited message to the parent. */
export function notifyParent(msg: { type: string } & Record<string, unknown>): void {
  process.send?.(msg);
}

/** process.memoryUsage after two full GCs when the process runs with --expose-gc. */
export function memory(collect: boolean): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc) {
    gc();
    gc();
  }
  return process.memoryUsage();
}
