import type { Logger } from '../core/logger.js';
import type { Store } from '../store/types.js';
import type { Readiness } from '../transports/http/index.js';

const PROBE_TIMEOUT_MS = 2000;

/**
 * `/ready` once the API is up: not while Tower stops, and only while the store answers (a cheap read of a
 * session that cannot exist). The reason is for operators; the store's own error goes to the log only.
 */
export function storeReadiness(store: Store, opts: { stopping(): boolean; logger: Logger; timeoutMs?: number }): () => Promise<Readiness> {
  return async () => {
    if (opts.stopping()) return { ready: false, reason: 'shutting down' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeoutMs ?? PROBE_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const answer = await Promise.race([store.getSession('readiness-probe').then(() => 'ok' as const), timeout]);
      if (answer === 'timeout') return { ready: false, reason: 'the store does not answer (probe timed out)' };
      return { ready: true };
    } catch (err) {
      opts.logger.warn({ err }, 'readiness probe failed');
      return { ready: false, reason: 'the store does not answer (probe failed)' };
    } finally {
      clearTimeout(timer);
    }
  };
}
