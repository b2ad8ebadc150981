import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { capture } from '../../src/cli/testing/capture.js';
import type { CreatedRunnerToken, RunnerList } from '../../src/protocol/runner-api.js';
import { NO_POSTGRES } from '../../src/store/postgres/test-db.js';
import { startRunnerCluster } from '../support/cluster.js';
import { spawnNodeRunner, stopRunner } from '../support/runners.js';
import { HubClient, type Frame } from '../support/hub.js';

const runnerFrame = (type: string, id: string) => (f: Frame): boolean =>
  f.type === 'runner' && f.data?.type === type && (f.data.runner as { id?: string } | undefined)?.id === id;

describe.skipIf(NO_POSTGRES)('hub runner topic across the nodes of a cluster', () => {
  let rig: Awaited<ReturnType<typeof startRunnerCluster>> | undefined;
  beforeAll(async () => {
    rig = await startRunnerCluster('crev');
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('a runner connecting to node B, then leaving, is announced on node A\'s hub with B\'s node', async () => {
    const [a, b] = rig!.nodes;
    const hubs = await Promise.all([HubClient.connect(a.url), HubClient.connect(b.url)]);
    for (const hub of hubs) {
      hub.send('subscribe', { topics: ['runner'] });
      await hub.next((f) => f.type === 'subscribed');
    }
    const [onA, onB] = hubs as [HubClient, HubClient];
    const res = await fetch(`${b.url}/api/runners/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'far', labels: ['far'] }) });
    const token = (await res.json()) as CreatedRunnerToken;
    const runner = spawnNodeRunner(rig!.base, b.url, token.token, 'far');
    try {
      // B's own event names B's node, as its listing does.
      const here = await onB.next(runnerFrame('runner_connected', token.id), 0, 20_000);
      const node = ((await (await fetch(`${b.url}/api/runners/${token.id}`)).json()) as { node?: string }).node;
      expect(node).toEqual(expect.any(String));
      expect(here.data?.runner).toMatchObject({ id: token.id, name: 'far', status: 'online', node });
      // A hears of it from B's presence.
      const far = await onA.next(runnerFrame('runner_connected', token.id), 0, 20_000);
      expect(far.data?.runner).toMatchObject({ id: token.id, name: 'far', labels: ['far'], status: 'online', node });
      // An idle runner of B is seen alive on A as on B: its heartbeats arrive, with no change of load.
      const beat = await onA.next(
        (f) => runnerFrame('runner_heartbeat', token.id)(f) && Boolean((f.data?.runner as { last_heartbeat?: string | null }).last_heartbeat),
        0,
        20_000,
      );
      expect(beat.data?.runner).toMatchObject({ id: token.id, status: 'online', running_tasks: 0, node });
      expect(((await (await fetch(`${a.url}/api/runners`)).json()) as RunnerList).runners.map((r) => r.node)).toEqual([node]);
      // `tower runners ls` on A shows the node column.
      const out = capture();
      expect(await run(['--url', a.url, 'runners', 'ls'], out.io)).toBe(0);
      expect(out.stdout()).toMatch(new RegExp(`^${token.id}\\s+far\\s+online\\s+node ${node}\\s+\\[far\\]`, 'm'));

      await stopRunner(runner);
      const gone = await onA.next(runnerFrame('runner_disconnected', token.id), 0, 20_000);
      expect(gone.data?.runner).toMatchObject({ id: token.id, status: 'offline', node });
    } finally {
      await stopRunner(runner);
    }
    for (const hub of hubs) hub.close();
  });
});
