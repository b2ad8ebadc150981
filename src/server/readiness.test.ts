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
    expect(await ready()).toEqual({ ready: false, code: 'shutting_down', reason: 'shutting down' });
    await store.close();
    const closed = storeReadiness(store, { stopping: () => false, logger: silentLogger });
    expect(await closed()).toEqual({ ready: false, code: 'store_unavailable', reason: 'the store does not answer (probe failed)' });
  });

  it('is not ready when the store hangs', async () => {
    const hanging = { getSession: () => new Promise(() => {}) } as unknown as Store;
    const ready = storeReadiness(hanging, { stopping: () => false, logger: silentLogger, timeoutMs: 10 });
    expect(await ready()).toEqual({ ready: false, code: 'store_unavailable', reason: 'the store does not answer (probe timed out)' });
  });

  it('is not ready while a transport is down, naming it', async () => {
    const store = openSqliteStore(':memory:');
    let down = [{ transport: 'bus', code: 'bus_bind_failed', reason: 'ports 1/2 are taken' }];
    const ready = storeReadiness(store, { stopping: () => false, logger: silentLogger, degraded: () => down });
    expect(await ready()).toEqual({ ready: false, code: 'transport_down', reason: 'transport bus is down (bus_bind_failed): ports 1/2 are taken', degraded: down });
    down = [];
    expect(await ready()).toEqual({ ready: true });
    await store.close();
  });
});
