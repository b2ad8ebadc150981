import { describe, expect, it } from 'vitest';
import type { RunnerView } from '../../protocol/runner-api.js';
import { runnerLines } from './runners-run.js';

const view = (id: string, extra: Partial<RunnerView> = {}): RunnerView => ({
  id,
  name: id,
  labels: ['linux'],
  status: 'online',
  connected_at: null,
  last_heartbeat: null,
  version: null,
  environment: {
    os: 'linux', os_version: '6', arch: 'x64', hostname: 'h', shell: 'bash', home_dir: '/h', workspace_root: '/w', username: 'u',
    num_cpu: 2, total_memory_mb: 1024, current_time: '', timezone: 'UTC', utc_offset: '+00:00',
  },
  metrics: null,
  running_tasks: 0,
  ...extra,
});

describe('tower runners ls lines', () => {
  it('on one node: no node column', () => {
    expect(runnerLines([view('r1')])).toEqual([`r1  ${'r1'.padEnd(16)}  online   [linux]  tasks 0  heartbeat -  h linux/x64`]);
  });

  it('in a cluster: the node holding each runner after its status', () => {
    const lines = runnerLines([view('r1', { node: 'node-a' }), view('r2', { node: 'node-b', status: 'offline' })]);
    expect(lines).toEqual([
      `r1  ${'r1'.padEnd(16)}  online   node node-a  [linux]  tasks 0  heartbeat -  h linux/x64`,
      `r2  ${'r2'.padEnd(16)}  offline  node node-b  [linux]  tasks 0  heartbeat -  h linux/x64`,
    ]);
  });
});
