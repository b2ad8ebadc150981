import { Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeferredObservations, FOLD_CHUNK, FOLD_DELAY_MS } from './deferred-observations.js';

describe('DeferredObservations', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('folds unscraped observations from a timer, at most a chunk per turn, in order', async () => {
    vi.useFakeTimers();
    const registry = new Registry();
    const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['k'], registers: [registry], buckets: [1] });
    const deferred = new DeferredObservations(() => histogram);
    const observe = vi.spyOn(histogram, 'observe');
    for (let i = 0; i < FOLD_CHUNK + 10; i++) deferred.observe({ k: 'a' }, i);
    expect(observe).not.toHaveBeenCalled();
    vi.advanceTimersByTime(FOLD_DELAY_MS);
    expect(observe).toHaveBeenCalledTimes(FOLD_CHUNK);
    expect(deferred.pending).toBe(10);
    vi.runOnlyPendingTimers();
    expect(deferred.pending).toBe(0);
    expect(observe.mock.calls.map((c) => (c as unknown[])[1])).toEqual(Array.from({ length: FOLD_CHUNK + 10 }, (_, i) => i));
    expect(vi.getTimerCount()).toBe(0);
    deferred.close();
  });

  it('a fold at scrape time takes everything and stops the timer', () => {
    vi.useFakeTimers();
    const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['k'], registers: [], buckets: [1] });
    const deferred = new DeferredObservations(() => histogram);
    deferred.observe({ k: 'a' }, 0.5);
    deferred.foldAll();
    expect(deferred.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
