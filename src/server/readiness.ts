import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';
import type { DegradedTransport, Readiness } from '../transports/http/index.js';

const PROBE_TIMEOUT_MS = 2000;

export interface ReadinessOptions {
  stopping(): boolean;
  logger: Logger;
  timeoutMs?: number;
  /** Transports that are down now (failed to start, or a bus retrying its bind). */
  degraded?: () => DegradedTransport[];
}

/**
 * `/ready` once the API is up: not while Tower stops, only while the store answers (a cheap read of a
 * session that cannot exist), and not while a transport it was configured to run is down. The last is a
 * 503 too: a node whose instance bus cannot bind is not serving what it was started to serve, and a load
 * balancer or orchestrator should see that (as `code: transport_down`, naming it), not only `/metrics`;
 * it turns ready by itself once the bus binds, and `--no-bus` runs without one. The reason is for
 * operators; the store's own error goes to the log only.
 */
export function storeReadiness(store: Store, opts: ReadinessOptions): () => Promise<Readiness> {
  return async () => {
    if (opts.stopping()) return { ready: false, code: 'shutting_down', reason: 'shutting down' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeoutMs ?? PROBE_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const answer = await Promise.race([store.getSession('readiness-probe').then(() => 'ok' as const), timeout]);
      if (answer === 'timeout') return { ready: false, code: 'store_unavailable', reason: 'the store does not answer (probe timed out)' };
    } catch (err) {
      opts.logger.warn({ err }, 'readiness probe failed');
      return { ready: false, code: 'store_unavailable', reason: 'the store does not answer (probe failed)' };
    } finally {
      clearTimeout(timer);
    }
    const down = opts.degraded?.() ?? [];
    if (down.length === 0) return { ready: true };
    const reason = down.map((d) => `transport ${d.transport} is down (${d.code}): ${d.reason}`).join('; ');
    return { ready: false, code: 'transport_down', reason, degraded: down };
  };
}
