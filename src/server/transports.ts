import type { Logger } from '../core/logger.js';
import type { RunningTransport, TransportContext, TransportStarter } from '../transports/context.js';
import type { DegradedTransport } from '../transports/http/index.js';

export type { RunningTransport, TransportContext, TransportStarter };

/** A starter with the name its transport reports when it fails to start (`transport-list.ts` names them). */
export function namedStarter(name: string, start: TransportStarter): TransportStarter {
  return Object.defineProperty(start, 'name', { value: name });
}

/** Transports that failed to start: down for good (until a restart), on `/ready` and `/health`. */
export type StartFailures = DegradedTransport[];

/**
 * Starts each transport in order; the result closes them in reverse. One that throws is logged and
 * skipped (the HTTP API stays up) and recorded in `failures`, so `/ready` and `/health` say so.
 */
export async function startTransports(starters: readonly TransportStarter[], ctx: TransportContext, failures: StartFailures = []): Promise<RunningTransport[]> {
  const running: RunningTransport[] = [];
  for (const start of starters) {
    try {
      const t = await start(ctx);
      if (t) running.push(t);
    } catch (err) {
      const transport = start.name || 'transport';
      ctx.logger.error({ err, transport }, 'transport failed to start; continuing without it');
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'transport_failed';
      failures.push({ transport, code, reason: err instanceof Error ? err.message : String(err), since: new Date().toISOString() });
    }
  }
  return running;
}

/** What is down now: transports that failed to start, and running ones that report themselves down. */
export function degradedTransports(running: readonly RunningTransport[], failures: StartFailures): DegradedTransport[] {
  const down = [...failures];
  for (const t of running) {
    const h = t.health?.();
    if (h && !h.up) down.push({ transport: t.name, code: h.code, reason: h.reason, ...(h.since ? { since: h.since } : {}) });
  }
  return down;
}

export async function closeTransports(running: readonly RunningTransport[], logger: Logger): Promise<void> {
  for (const t of [...running].reverse()) {
    await t.close().catch((err: unknown) => logger.error({ err, transport: t.name }, 'transport failed to close'));
  }
}
