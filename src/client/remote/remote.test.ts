import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBusTower, tempDir, type BusTower } from '../../../test/support/fake-pando-clients.js';
import { FakePando } from '../../../test/support/fake-pando.js';
import { discoverInstances, isRemoteError, openRemote, resolveTarget, type Remote, type RemoteEvent, type RemoteSession } from './index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Collects a session's events in the background; `until` waits on what arrived. */
function collect(session: RemoteSession) {
  const got: RemoteEvent[] = [];
  const waiters: Array<() => void> = [];
  void (async () => {
    for await (const e of session.events()) {
      got.push(e);
      for (const w of waiters.splice(0)) w();
    }
  })();
  const until = async (check: (all: RemoteEvent[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!check(got)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${got.map((e) => e.topic).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  return { got, until };
}

async function mirrorHas(session: RemoteSession, check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(session.messages())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('remote SDK against a Pando instance (fake, Pando framing and behaviour)', () => {
  it('discovers it, lists its sessions, mirrors with session.list, and fails clearly where Pando has no handler', async () => {
    const registryDir = tempDir('reg');
    const pando = await FakePando.start({ registryDir, workdir: '/work/project', heartbeatMs: 50 });
    cleanups.push(() => pando.close());
    const s1 = pando.addSession('first', ['hi', 'hello']);
    // A registry entry whose process is gone is pruned by the reader.
    const dead = path.join(registryDir, 'dead-instance.json');
    writeFileSync(dead, JSON.stringify({ instance_id: 'dead-instance', path: '/x', pid: 2 ** 22 + 7, pub_port: 1, rpc_port: 2, started_at: '', mode: 'tui', is_primary: true }));
    writeFileSync(path.join(registryDir, 'junk.json'), '{not json');

    const found = discoverInstances({ dir: registryDir });
    expect(found.map((i) => i.instance_id)).toEqual([pando.instanceId]);
    expect(existsSync(dead)).toBe(false);

    const remote = openRemote(resolveTarget(pando.instanceId.slice(0, 8), { dir: registryDir }));
    cleanups.push(() => remote.close());
    const { control } = remote;
    expect(await control.ping()).toMatchObject({ status: 'ok', instance_id: pando.instanceId });
    expect(await control.listSessions()).toEqual([pando.payload(s1)]);
    expect(await control.getSession(s1.id)).toEqual(pando.payload(s1));
    expect((await control.listMessages(s1.id)).map((m) => m.content)).toEqual(['hi', 'hello']);
    await control.switchSession(s1.id);

    const send = await control.sendMessage(s1.id, 'do it').then(() => undefined, (e: unknown) => e);
    expect(isRemoteError(send, 'rpc')).toBe(true);
    expect((send as Error).message).toBe('agent runner not available');
    const info = await control.info().then(() => undefined, (e: unknown) => e);
    expect(isRemoteError(info, 'unsupported')).toBe(true);
    expect((info as Error).message).toMatch(/instance\.info is not available on this instance/);
    expect(isRemoteError(await control.steer(s1.id, 'x').catch((e: unknown) => e), 'unsupported')).toBe(true);

    const mirror = remote.session({ sessionId: s1.id });
    const events = collect(mirror);
    await mirror.sync();
    expect(mirror.degraded).toMatch(/state\.sync is not available/);
    expect(mirror.mirror()).toEqual([pando.payload(s1)]);
    expect(mirror.messages().map((m) => m.id)).toEqual(['m0', 'm1']);
    // Live: a new session appears in the mirror; Pando's doubled heartbeat ids do not count as restarts.
    await events.until((all) => all.some((e) => e.topic === 'instance.heartbeat'), 'a heartbeat');
    const s2 = pando.addSession('second');
    await mirrorHas(mirror, () => mirror.mirror().some((s) => s.id === s2.id), 'the new session');
    expect(mirror.reconnects).toBe(0);
  });

  it('times out with a typed error when nobody answers', async () => {
    const remote = openRemote({ kind: 'zmq', rpc: 'tcp://127.0.0.1:9', pub: 'tcp://127.0.0.1:8' });
    cleanups.push(() => remote.close());
    const err = await remote.control.ping({ timeoutMs: 200 }).then(() => undefined, (e: unknown) => e);
    expect(isRemoteError(err, 'timeout')).toBe(true);
  });
});

const slowTurn = { text: Array.from({ length: 20 }, (_, i) => `t${i} `), tokensPerSecond: 200 };

describe.each(['zmq', 'http'] as const)('remote SDK against Tower over %s', (kind) => {
  let t: BusTower;
  const open = (): Remote => {
    const remote = openRemote(kind === 'zmq' ? { kind, rpc: t.rpc, pub: t.pub } : { kind, url: t.tower.url });
    cleanups.push(() => remote.close());
    return remote;
  };

  it('bootstraps the mirror, streams live tokens of a turn, and interrupts', async () => {
    t = await startBusTower({ script: [slowTurn, { text: 'never ends', hang: true }] });
    cleanups.push(() => t.close());
    const session = await t.tower.commands.execute('sessions.create', { title: 'mirror me' });
    const remote = open();
    const mirror = remote.session({ sessionId: session.id });
    const events = collect(mirror);
    await mirror.sync();
    expect(mirror.mirror()).toEqual([expect.objectContaining({ id: session.id, title: 'mirror me' })]);
    expect(mirror.messages()).toEqual([]);
    if (kind === 'zmq') expect(mirror.instanceId).toBe(t.bus.instanceId);

    expect(await remote.control.sendMessage(session.id, 'go')).toMatchObject({ ok: true, status: 'started' });
    await events.until((all) => all.some((e) => e.topic === 'llm.end'), 'end of the first turn');
    const tokens = events.got.filter((e) => e.topic === 'llm.token').map((e) => e.payload.token).join('');
    expect(tokens).toBe(slowTurn.text.join(''));
    await mirrorHas(mirror, () => mirror.messages().length === 2, 'two messages');
    expect(mirror.messages().map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(await t.tower.manager.waitIdle(session.id, 10_000)).toBe(true);

    await remote.control.sendMessage(session.id, 'hang now');
    await events.until((all) => all.filter((e) => e.topic === 'llm.token').length > 20, 'tokens of the second turn');
    expect(await remote.control.interrupt(session.id)).toBe(true);
    expect(await t.tower.manager.waitIdle(session.id, 10_000)).toBe(true);
    expect(await remote.control.interrupt(session.id)).toBe(false);
    if (kind === 'http') {
      const seen: string[] = [];
      for await (const e of remote.control.eventsSince(session.id, 0)) {
        seen.push(e.type);
        if (e.type === 'stream_stopped' && seen.filter((x) => x === 'stream_stopped').length === 2) break;
      }
      expect(seen[0]).toBe('session_created');
    } else {
      expect(isRemoteError(await remote.control.eventsSince(session.id, 0)[Symbol.asyncIterator]().next().catch((e: unknown) => e), 'unsupported')).toBe(true);
    }
  });

  it('survives a Tower restart without missing a message', async () => {
    t = await startBusTower({ script: [{ text: 'before restart' }, { text: 'after restart' }] });
    const fake = t.fake;
    cleanups.push(() => fake.close());
    const session = await t.tower.commands.execute('sessions.create', {});
    const remote = open();
    const mirror = remote.session({ sessionId: session.id });
    const events = collect(mirror);
    await mirror.sync();
    await remote.control.sendMessage(session.id, 'one');
    await mirrorHas(mirror, () => mirror.messages().length === 2, 'the first exchange');

    t = await t.restart();
    cleanups.push(() => t.close());
    // Sent at once after the restart, before the remote's sockets are back: only a resync can see it.
    await t.tower.commands.execute('sessions.send', { session_id: session.id, content: 'two' });
    await mirrorHas(mirror, () => mirror.messages().length === 4, 'the exchange after the restart', 20_000);
    expect(mirror.messages().map((m) => m.content)).toEqual(['one', 'before restart', 'two', 'after restart']);
    const appended = events.got.filter((e) => e.topic === 'message.append').map((e) => e.payload.content);
    expect(appended).toEqual(['one', 'before restart', 'two', 'after restart']);
    if (kind === 'zmq') expect(mirror.reconnects).toBeGreaterThan(0);
  });
});
