import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/types.js';
import { storeReadiness } from './readiness.js';

describe('storeReadiness', () => {
  it('is ready while the store answers, and says why not otherwise', async () => {
    const store = openSqliteStore(':memory:');
    let stopping = false;
    const ready = storeReadiness(store, { stopping: () => stopping, logger: silentLogger });
    expect(await ready()).toEqual({ ready: true });
    stopping = true;
    expect(await ready()).toEqual({ ready: false, reason: 'shutting down' });
    await store.close();
    const closed = storeReadiness(store, { stopping: () => false, logger: silentLogger });
    expect(await closed()).toEqual({ ready: false, reason: 'the store does not answer (probe failed)' });
  });

  it('is not ready when the store hangs', async () => {
    const hanging = { getSession: () => new Promise(() => {}) } as unknown as Store;
    const ready = storeReadiness(hanging, { stopping: () => false, logger: silentLogger, timeoutMs: 10 });
    expect(await ready()).toEqual({ ready: false, reason: 'the store does not answer (probe timed out)' });
  });
});
