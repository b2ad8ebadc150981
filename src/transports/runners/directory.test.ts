import { describe, expect, it } from 'vitest';
import type { RunnerView } from '../../protocol/runner-api.js';
import { clusterRunnerList, type RemoteRunner } from './directory.js';

const here = (id: string, status: 'online' | 'offline'): RunnerView => ({
  id, name: id, labels: [], status, connected_at: 't0', last_heartbeat: 't1', version: '1', environment: null, metrics: null, running_tasks: 0, node: 'a',
});
const far = (id: string, node = 'b', details?: RemoteRunner['details']): RemoteRunner => ({ id, name: id, labels: ['x'], running_tasks: 2, node, ...(details ? { details } : {}) });

describe('clusterRunnerList', () => {
  it("lists this node's runners, then the other nodes' as online, each with its node", () => {
    const details = { connected_at: 'c', last_heartbeat: 'h', version: '2', environment: null, metrics: null };
    expect(clusterRunnerList([here('r1', 'online'), here('r2', 'offline')], [far('r3', 'b', details), far('r4', 'c')])).toEqual([
      here('r1', 'online'),
      here('r2', 'offline'),
      { id: 'r3', name: 'r3', labels: ['x'], status: 'online', running_tasks: 2, node: 'b', ...details },
      // A node that publishes no details (an older one): what is not known is null.
      { id: 'r4', name: 'r4', labels: ['x'], status: 'online', running_tasks: 2, node: 'c', connected_at: null, last_heartbeat: null, version: null, environment: null, metrics: null },
    ]);
  });

  it('lists a runner that reconnected elsewhere once: online wins over offline, this node over the other', () => {
    expect(clusterRunnerList([here('moved', 'offline')], [far('moved')]).map((r) => [r.id, r.node, r.status])).toEqual([['moved', 'b', 'online']]);
    expect(clusterRunnerList([here('back', 'online')], [far('back')]).map((r) => [r.id, r.node, r.status])).toEqual([['back', 'a', 'online']]);
  });
});
