import { describe, expect, it } from 'vitest';
import type { RunnerView } from '../api/types.js';
import { foldRunner, loadRunners, MAX_SAMPLES, type RunnerRows } from './runners.js';

const view = (over: Partial<RunnerView> = {}): RunnerView => ({
  id: 'rn_1',
  name: 'builder',
  labels: ['linux'],
  status: 'online',
  connected_at: '2026-01-01T00:00:00.000Z',
  last_heartbeat: '2026-01-01T00:00:00.000Z',
  version: '1',
  environment: null,
  metrics: null,
  running_tasks: 0,
  ...over,
});
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const event = (type: string, s: number, over: Partial<RunnerView> = {}) => ({ type, timestamp: at(s), runner: view({ last_heartbeat: at(s), ...over }) });
const fold = (rows: RunnerRows, ...frames: unknown[]) => frames.reduce<RunnerRows>(foldRunner, rows);

describe('runners fold', () => {
  it('a runner appears on connect, gathers a sample per heartbeat, and goes offline on disconnect', () => {
    const rows = fold(
      new Map(),
      event('runner_connected', 1),
      event('runner_heartbeat', 2, { metrics: { cpu_percent: 10, memory_percent: 40, disk_percent: 70 } }),
      event('runner_heartbeat', 3, { metrics: { cpu_percent: 30, memory_percent: 41 } }),
    );
    expect(rows.get('rn_1')).toMatchObject({ runner: { online: true, name: 'builder' } });
    expect(rows.get('rn_1')?.samples).toEqual([
      { t: Date.parse(at(2)) / 1000, cpu: 10, memory: 40, disk: 70 },
      { t: Date.parse(at(3)) / 1000, cpu: 30, memory: 41, disk: null },
    ]);
    const off = fold(rows, { type: 'runner_disconnected', timestamp: at(4), runner: view({ last_heartbeat: at(3), status: 'online' }) });
    expect(off.get('rn_1')).toMatchObject({ runner: { online: false, status: 'offline' } });
    expect(off.get('rn_1')?.samples).toHaveLength(2);
  });

  it('an event older than the row is stale: a late "connected" does not revive a runner read as offline', () => {
    const read = loadRunners(undefined, [{ ...view({ status: 'offline', connected_at: at(1), last_heartbeat: at(5) }), online: false }]);
    expect(fold(read, event('runner_connected', 1))).toBe(read);
    expect(fold(read, event('runner_connected', 9)).get('rn_1')?.runner.online).toBe(true);
  });

  it('a fresh read keeps the sparkline samples, and samples are capped', () => {
    let rows: RunnerRows = new Map();
    for (let i = 0; i < MAX_SAMPLES + 10; i++) rows = foldRunner(rows, { type: 'runner_heartbeat', timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), runner: view({ metrics: { cpu_percent: i % 100 } }) });
    expect(rows.get('rn_1')?.samples).toHaveLength(MAX_SAMPLES);
    const reread = loadRunners(rows, [{ ...view({ last_heartbeat: at(1) }), online: true }]);
    expect(reread.get('rn_1')?.samples.length).toBe(MAX_SAMPLES);
    expect(fold(reread, null, { runner: {} }, { type: 'runner_heartbeat', timestamp: 'nope', runner: view() })).toBe(reread);
  });
});
