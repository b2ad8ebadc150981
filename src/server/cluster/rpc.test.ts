import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniquePrefix } from '../../bus/test-redis.js';
import { silentLogger } from '../../core/logger.js';
import { TowerError } from '../../protocol/errors.js';
import { waitFor } from '../../../test/support/wait.js';
import { NodeRpc } from './rpc.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(): Promise<{ a: NodeRpc; b: NodeRpc; prefix: string }> {
  const prefix = uniquePrefix('rpc');
  const a = await NodeRpc.open(TEST_REDIS_URL, 'node-a', silentLogger, prefix);
  const b = await NodeRpc.open(TEST_REDIS_URL, 'node-b', silentLogger, prefix);
  return own(a, b, prefix);
}

function own(a: NodeRpc, b: NodeRpc, prefix: string): { a: NodeRpc; b: NodeRpc; prefix: string } {
  cleanups.push(async () => {
    await a.close();
    await b.close();
  });
  return { a, b, prefix };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

describe('NodeRpc (forwarded commands over Redis)', () => {
  it('carries one-way notes in order, naming the sender; a note nobody hears reports false', async () => {
    const { a, b } = await pair();
    const heard: unknown[] = [];
    let last!: () => void;
    const done = new Promise<void>((resolve) => (last = resolve));
    b.onNote((name, params, from) => {
      heard.push({ name, params, from });
      if (params === 9) last();
    });
    b.serve(async (name, _params, from) => ({ name, from }));
    for (let i = 0; i < 10; i++) expect(await a.notify('node-b', 'chunk', i)).toBe(true);
    await done;
    expect(heard).toEqual(Array.from({ length: 10 }, (_, i) => ({ name: 'chunk', params: i, from: 'node-a' })));
    expect(await a.call('node-b', 'who', null, 5000)).toEqual({ name: 'who', from: 'node-a' });
    expect(await a.notify('node-nobody', 'chunk', 0)).toBe(false);
  });

  it('answers with the remote result, or the remote error with its code, message and details', async () => {
    const { a, b } = await pair();
    b.serve(async (name, params) => {
      if (name === 'fail') throw new TowerError('steer_queue_full', 'The steer queue holds 5 messages', { session_id: 's' });
      if (name === 'bug') throw new Error('a bug');
      return { name, params };
    });
    expect(await a.call('node-b', 'echo', { x: 1 }, 5000)).toEqual({ name: 'echo', params: { x: 1 } });
    expect(await failure(a.call('node-b', 'fail', {}, 5000))).toMatchObject({
      code: 'steer_queue_full',
      message: 'The steer queue holds 5 messages',
      details: { session_id: 's' },
    });
    expect(await failure(a.call('node-b', 'bug', {}, 5000))).toMatchObject({ code: 'internal' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    b.serve(async (name) => {
      if (name === 'cyclic-error') throw new TowerError('conflict', 'cannot', cyclic);
      return cyclic;
    });
    expect(await failure(a.call('node-b', 'cyclic-error', {}, 5000))).toMatchObject({ code: 'conflict', message: 'cannot' });
    expect(await failure(a.call('node-b', 'cyclic-result', {}, 5000))).toMatchObject({ code: 'internal' });
    b.serve(async (name, params) => ({ name, params }));
    // Concurrent calls are matched to their answers by id.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => a.call('node-b', 'echo', i, 5000)));
    expect(many).toEqual(Array.from({ length: 20 }, (_, i) => ({ name: 'echo', params: i })));
  });

  it('fails at once with not_ready when nobody listens on the target channel (the node is gone)', async () => {
    const { a } = await pair();
    expect(await failure(a.call('node-gone', 'echo', {}, 60_000))).toMatchObject({ code: 'not_ready', message: expect.stringContaining('not reachable') });
  });

  it('fails with not_ready when the owner does not answer in time', async () => {
    const { a, b } = await pair();
    b.serve(() => new Promise(() => undefined));
    expect(await failure(a.call('node-b', 'hang', {}, 200))).toMatchObject({ code: 'not_ready', message: expect.stringContaining('did not answer') });
  });

  it('ignores junk on a node channel and keeps serving', async () => {
    const { a, b, prefix } = await pair();
    b.serve(async () => 'fine');
    const raw = new Redis(TEST_REDIS_URL);
    cleanups.push(async () => void raw.disconnect());
    for (const junk of ['not json', '{}', JSON.stringify({ kind: 'request', id: 1 }), JSON.stringify({ kind: 'reply', id: 'x', ok: 'maybe' })]) {
      await raw.publish(`${prefix}:node:node-b`, junk);
      await raw.publish(`${prefix}:node:node-a`, junk);
    }
    expect(await a.call('node-b', 'echo', {}, 5000)).toBe('fine');
  });

  it('serves again after Redis dropped its connections (the node channel is subscribed again)', async () => {
    const prefix = uniquePrefix('rpc-drop');
    const ids = [`a-${prefix}`, `b-${prefix}`];
    const { a, b } = own(
      await NodeRpc.open(TEST_REDIS_URL, ids[0] as string, silentLogger, prefix),
      await NodeRpc.open(TEST_REDIS_URL, ids[1] as string, silentLogger, prefix),
      prefix,
    );
    b.serve(async () => 'back');
    expect(await a.call(ids[1] as string, 'x', {}, 5000)).toBe('back');
    const admin = new Redis(TEST_REDIS_URL);
    cleanups.push(async () => void admin.disconnect());
    const list = (await admin.client('LIST')) as string;
    const victims = list
      .split('\n')
      .filter((line) => / name=(\S+)/.exec(line)?.[1]?.startsWith(`tower-rpc-`) && line.includes(prefix))
      .map((line) => / ?id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    expect(victims.length).toBe(4);
    for (const id of victims) await admin.client('KILL', 'ID', id);
    // Calls fail with not_ready while the connections come back, then work again.
    await waitFor(async () => (await a.call(ids[1] as string, 'x', {}, 1000).catch(() => undefined)) === 'back', 15_000);
  });

  it('refuses calls after close', async () => {
    const { a } = await pair();
    await a.close();
    expect(await failure(a.call('node-b', 'echo', {}, 5000))).toMatchObject({ code: 'not_ready' });
  });
});
