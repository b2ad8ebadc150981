import type { Logger } from '../core/logger.js';
import type { RunningTransport, TransportContext, TransportStarter } from '../transports/context.js';

export type { RunningTransport, TransportContext, TransportStarter };

/** Starts each transport in order; the result closes them in reverse. */
export async function startTransports(starters: readonly TransportStarter[], ctx: TransportContext): Promise<RunningTransport[]> {
  const running: RunningTransport[] = [];
  for (const start of starters) {
    try {
      const t = await start(ctx);
      if (t) running.push(t);
    } catch (err) {
      ctx.logger.error({ err }, 'transport failed to start; continuing without it');
    }
  }
  return running;
}

export async function closeTransports(running: readonly RunningTransport[], logger: Logger): Promise<void> {
  for (const t of [...running].reverse()) {
    await t.close().catch((err: unknown) => logger.error({ err, transport: t.name }, 'transport failed to close'));
  }
}
