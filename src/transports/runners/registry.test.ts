import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OFFLINE_RETENTION_MS, RunnerRegistry } from './registry.js';

const HOUR = 60 * 60 * 1000;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

const ids = (r: RunnerRegistry) => r.list().map((x) => `${x.id}:${x.status}`);

describe('RunnerRegistry', () => {
  it('keeps a disconnected runner listed offline for a day, then forgets it', () => {
    const forgotten: string[] = [];
    const r = new RunnerRegistry(30_000, { onForget: (id) => forgotten.push(id) });
    r.connected('a', 't1', 'alpha', []);
    r.connected('b', 't2', 'beta', []);
    r.disconnected('a');
    vi.advanceTimersByTime(OFFLINE_RETENTION_MS);
    // Still there at exactly the retention; "b" never left, though it is offline (no heartbeats).
    expect(ids(r)).toEqual(['a:offline', 'b:offline']);
    vi.advanceTimersByTime(1);
    expect(ids(r)).toEqual(['b:offline']);
    expect(r.get('a')).toBeNull();
    expect(forgotten).toEqual(['a']);
    // A connected runner is never forgotten, however long it has been silent.
    vi.advanceTimersByTime(10 * OFFLINE_RETENTION_MS);
    expect(ids(r)).toEqual(['b:offline']);
  });

  it('a runner that comes back before the retention ends is listed again, with its history', () => {
    const r = new RunnerRegistry(30_000, { offlineRetentionMs: HOUR });
    r.connected('a', 't', 'alpha', ['x']);
    r.heartbeat('a', { version: '1.2.3' });
    r.disconnected('a');
    vi.advanceTimersByTime(HOUR - 1);
    r.connected('a', 't', 'alpha', ['x']);
    vi.advanceTimersByTime(2 * HOUR);
    r.heartbeat('a', { version: '1.2.3' });
    expect(r.get('a')).toMatchObject({ status: 'online', version: '1.2.3' });
    // The clock restarts at the next disconnect.
    r.disconnected('a');
    vi.advanceTimersByTime(HOUR);
    expect(r.get('a')).toMatchObject({ status: 'offline' });
    vi.advanceTimersByTime(1);
    expect(r.get('a')).toBeNull();
  });

  it('keeps at most maxOffline disconnected runners, forgetting the longest gone first', () => {
    const r = new RunnerRegistry(30_000, { maxOffline: 2 });
    for (const id of ['a', 'b', 'c', 'd']) r.connected(id, 't', id, []);
    for (const id of ['c', 'a', 'd']) {
      r.disconnected(id);
      vi.advanceTimersByTime(1000);
    }
    r.heartbeat('b', { version: '1' });
    expect(ids(r)).toEqual(['a:offline', 'b:online', 'd:offline']);
  });

  it('keeps a disconnected runner with tasks still pending, and forgets it once they end', () => {
    const r = new RunnerRegistry(30_000, { offlineRetentionMs: HOUR });
    r.connected('a', 't', 'alpha', []);
    r.taskStarted('a', 'task1');
    r.disconnected('a');
    vi.advanceTimersByTime(2 * HOUR);
    expect(r.get('a')).toMatchObject({ status: 'offline', running_tasks: 1 });
    r.taskEnded('a', 'task1');
    expect(r.get('a')).toBeNull();
  });
});
