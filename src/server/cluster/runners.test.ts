import { afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniquePrefix } from '../../bus/test-redis.js';
import { silentLogger } from '../../core/logger.js';
import { RunnerGateway, staticTokenVerifier } from '../../transports/runners/index.js';
import { NodeRpc } from './rpc.js';
import { ClusterRunners } from './runners.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Node x (the session's) and node y (holding the runners), each with its rpc and directory. */
async function nodes(hang = false, members: ReadonlySet<string> = new Set(['node-x', 'node-y', 'node-nobody'])) {
  const prefix = uniquePrefix('crun');
  const rx = await NodeRpc.open(TEST_REDIS_URL, 'node-x', silentLogger, prefix);
  const ry = await NodeRpc.open(TEST_REDIS_URL, 'node-y', silentLogger, prefix);
  const x = await ClusterRunners.open(TEST_REDIS_URL, rx, 50, silentLogger, { prefix, members: async () => members });
  const y = await ClusterRunners.open(TEST_REDIS_URL, ry, 50, silentLogger, { prefix });
  const gateway = new RunnerGateway({ verifyToken: staticTokenVerifier([]), log: silentLogger, heartbeatMs: 60_000 });
  ry.serve(hang ? () => new Promise<never>(() => undefined) : (name, params, from) => y.handle(name, params, from));
  x.attach(new RunnerGateway({ verifyToken: staticTokenVerifier([]), log: silentLogger }));
  y.attach(gateway);
  cleanups.push(async () => {
    await x.close();
    await y.close();
    await rx.close();
    await ry.close();
    await gateway.close();
  });
  return { x, y, rx, ry, gateway, prefix };
}

/** One more node on the same prefix, with a gateway of its own; it takes every published node. */
async function open(prefix: string, node: string) {
  const rpc = await NodeRpc.open(TEST_REDIS_URL, node, silentLogger, prefix);
  const runners = await ClusterRunners.open(TEST_REDIS_URL, rpc, 50, silentLogger, { prefix });
  const gateway = new RunnerGateway({ verifyToken: staticTokenVerifier([]), log: silentLogger, heartbeatMs: 60_000 });
  runners.attach(gateway);
  cleanups.push(async () => {
    await runners.close();
    await rpc.close();
    await gateway.close();
  });
  return { runners, gateway };
}

/** Resolves once `x` lists a runner carrying `labels` (published by another node). */
function published(x: ClusterRunners, labels: string[]): Promise<void> {
  return new Promise((resolve) => {
    if (x.candidates(labels).length) return resolve();
    const off = x.onChange(() => {
      if (x.candidates(labels).length) {
        off();
        resolve();
      }
    });
  });
}

const far = { id: 'r1', name: 'one', labels: ['gpu'], running_tasks: 0, node: 'node-y' };

describe('ClusterRunners (runners of other nodes, over Redis)', () => {
  it('lists the runners another node publishes, with their labels, and never its own', async () => {
    const { x, y, gateway } = await nodes();
    gateway.registry.connected('r1', 'tok', 'one', ['gpu', 'linux']);
    await published(x, ['gpu']);
    // With what `GET /api/runners` shows of it (no heartbeat yet in this test).
    const details = { connected_at: expect.any(String), last_heartbeat: null, version: null, environment: null, metrics: null };
    expect(x.candidates(['gpu'])).toEqual([{ id: 'r1', name: 'one', labels: ['gpu', 'linux'], running_tasks: 0, node: 'node-y', details }]);
    expect(x.candidates(['mac'])).toEqual([]);
    expect(x.list()).toEqual(x.candidates([]));
    expect(y.candidates([])).toEqual([]);
    expect(y.list()).toEqual([]);
    expect([x.node, y.node]).toEqual(['node-x', 'node-y']);
  });

  it('ignores runners published by nodes that are not members of this cluster (another cluster on the same Redis)', async () => {
    const { x, gateway, prefix } = await nodes(false, new Set(['node-x', 'node-z']));
    gateway.registry.connected('r1', 'one', 'one', ['gpu']);
    // Someone who takes every node sees y's runner: y's presence is in Redis.
    const all = await open(prefix, 'node-all');
    await published(all.runners, ['gpu']);
    // A member node publishes after that; once x sees its runner, x has read y's key too, and left it out.
    const z = await open(prefix, 'node-z');
    z.gateway.registry.connected('r2', 'two', 'two', ['gpu']);
    await published(x, ['gpu']);
    expect(x.candidates(['gpu']).map((r) => r.node)).toEqual(['node-z']);
  });

  it('refuses junk task requests with invalid_request, and a runner not connected there with not_found (pick again)', async () => {
    const { x, rx } = await nodes();
    for (const junk of [null, 42, { task_id: 't' }, { task_id: 't', runner_id: 'r1', operation: 'rm -rf', args: {} }]) {
      await expect(rx.call('node-y', 'runner.task', junk, 2000)).rejects.toMatchObject({ code: 'invalid_request' });
    }
    await expect(rx.call('node-y', 'runner.nothing', {}, 2000)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(x.dispatch(far, 'bash', { command: 'true' }, {})).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a node nobody hears gives a failed result; a node whose presence expires ends the task sent to it', async () => {
    const { x, y, gateway } = await nodes(true);
    const gone = await x.dispatch({ ...far, node: 'node-nobody' }, 'bash', { command: 'true' }, {});
    expect(gone).toMatchObject({ success: false, error: expect.stringContaining('node-nobody') });
    // y hears the task but never answers (a node stuck, then gone): its presence key goes with it.
    gateway.registry.connected('r1', 'tok', 'one', ['gpu']);
    await published(x, ['gpu']);
    const pending = x.dispatch(far, 'bash', { command: 'sleep 100' }, {});
    await y.close();
    expect(await pending).toMatchObject({ success: false, error: expect.stringContaining('went away') });
  });
});
