import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { RefreshPacer, SerialRefresh } from './serial-refresh.js';

describe('RefreshPacer', () => {
  it('starts a bounded number of refreshes per event-loop turn and runs every one, in order', async () => {
    const pacer = new RefreshPacer(2);
    const started: number[] = [];
    const refreshes = Array.from({ length: 5 }, (_, i) => new SerialRefresh(async () => {
      started.push(i);
    }, silentLogger, pacer));
    for (const r of refreshes) r.request();
    // The first two start at once; the rest wait for later turns.
    expect(started).toEqual([0, 1]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(started.length).toBeLessThanOrEqual(4);
    await Promise.all(refreshes.map((r) => r.idle()));
    expect(started).toEqual([0, 1, 2, 3, 4]);
    // A request made meanwhile waits its turn too, and still runs.
    refreshes[0]!.request();
    await refreshes[0]!.idle();
    expect(started).toEqual([0, 1, 2, 3, 4, 0]);
  });
});
