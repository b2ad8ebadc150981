import { describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../protocol/runner-api.js';
import { relayClusterRunnerEvents, type LocalRunners } from './cluster-events.js';
import type { RemoteRunner, RemoteRunnerDirectory } from './directory.js';
import { RunnerRegistry } from './registry.js';

/** A directory whose published runners the test sets, telling its listeners as ClusterRunners does. */
function directory(): RemoteRunnerDirectory & { set(list: RemoteRunner[]): void } {
  let runners: RemoteRunner[] = [];
  const listeners = new Set<() => void>();
  return {
    node: 'node-here',
    list: () => [...runners],
    candidates: () => [...runners],
    dispatch: () => Promise.reject(new Error('not used')),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    // Every change the test makes is a presence change; the relay follows only these.
    onPresence: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set(list) {
      runners = list;
      for (const l of [...listeners]) l();
    },
  };
}

const far = (extra: Partial<RemoteRunner> = {}): RemoteRunner => ({ id: 'r-far', name: 'far', labels: ['gpu'], running_tasks: 0, node: 'node-there', ...extra });
const brief = (e: RunnerEvent) => [e.type, e.runner.id, e.runner.node, e.runner.status, e.runner.running_tasks];

/** This node's side: a real registry, and the events its gateway would send as runners connect. */
function local(): LocalRunners & { connect(id: string): void } {
  const registry = new RunnerRegistry(60_000);
  const listeners = new Set<(e: RunnerEvent) => void>();
  return {
    registry,
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    connect(id) {
      registry.connected(id, 'tok', id, ['linux']);
      const { token_id: _t, ...runner } = registry.get(id) as NonNullable<ReturnType<RunnerRegistry['get']>>;
      for (const l of [...listeners]) l({ type: 'runner_connected', runner, timestamp: new Date().toISOString() });
    },
  };
}

describe('relayClusterRunnerEvents (the hub runner topic of a cluster node)', () => {
  it('marks this node\'s events with its node and relays the other nodes\' runners coming, changing load and going', () => {
    const gateway = local();
    const dir = directory();
    const events: RunnerEvent[] = [];
    const stop = relayClusterRunnerEvents(gateway, dir, (e) => events.push(e));
    gateway.connect('r-here');
    dir.set([far()]);
    dir.set([far({ running_tasks: 2 })]);
    dir.set([far({ running_tasks: 2, details: { connected_at: 'x', last_heartbeat: 'y', version: '1', environment: null, metrics: null } })]);
    dir.set([]);
    stop();
    dir.set([far()]);
    expect(events.map(brief)).toEqual([
      ['runner_connected', 'r-here', 'node-here', 'online', 0],
      ['runner_connected', 'r-far', 'node-there', 'online', 0],
      ['runner_heartbeat', 'r-far', 'node-there', 'online', 2],
      ['runner_disconnected', 'r-far', 'node-there', 'offline', 0],
    ]);
  });

  it('says nothing of another node\'s stale presence of a runner now online here', () => {
    const gateway = local();
    const dir = directory();
    dir.set([far({ id: 'moved' })]);
    const events: RunnerEvent[] = [];
    relayClusterRunnerEvents(gateway, dir, (e) => events.push(e));
    gateway.connect('moved');
    dir.set([]);
    expect(events.map(brief)).toEqual([['runner_connected', 'moved', 'node-here', 'online', 0]]);
  });

  it('a runner moving between two other nodes is announced on the new one, never withdrawn', () => {
    const dir = directory();
    dir.set([far({ id: 'moving', node: 'node-b' })]);
    const events: RunnerEvent[] = [];
    relayClusterRunnerEvents(local(), dir, (e) => events.push(e));
    dir.set([far({ id: 'moving', node: 'node-b' })]);
    dir.set([far({ id: 'moving', node: 'node-c' })]);
    expect(events.map(brief)).toEqual([['runner_connected', 'moving', 'node-c', 'online', 0]]);
  });

  it('relays another node\'s idle runner heartbeating, at most once per interval, as the gateway does its own', () => {
    const dir = directory();
    const events: RunnerEvent[] = [];
    let clock = 1_000_000;
    relayClusterRunnerEvents(local(), dir, (e) => events.push(e), { heartbeatEventMs: 30_000, now: () => clock });
    const beat = (at: number, cpu = 5) =>
      far({ details: { connected_at: 'c', last_heartbeat: new Date(at).toISOString(), version: '1', environment: null, metrics: { cpu_percent: cpu } } });
    dir.set([beat(0)]);
    clock += 10_000;
    dir.set([beat(10_000)]);
    clock += 25_000;
    dir.set([beat(35_000, 7)]);
    // Load changes are relayed at once, whatever the heartbeat throttle.
    clock += 1_000;
    dir.set([{ ...beat(35_000, 7), running_tasks: 1 }]);
    expect(events.map(brief)).toEqual([
      ['runner_connected', 'r-far', 'node-there', 'online', 0],
      ['runner_heartbeat', 'r-far', 'node-there', 'online', 0],
      ['runner_heartbeat', 'r-far', 'node-there', 'online', 1],
    ]);
    expect(events[1]?.runner).toMatchObject({ last_heartbeat: new Date(35_000).toISOString(), metrics: { cpu_percent: 7 } });
  });
});
