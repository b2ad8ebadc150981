import { afterEach, describe, expect, it } from 'vitest';
import { startBusTower, type BusTower } from '../../../test/support/fake-pando-clients.js';
import { run } from '../program.js';
import { capture, waitFor } from '../testing/capture.js';

let t: BusTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('tower instances / tower remote', () => {
  it('lists the instance, its sessions, sends, interrupts and watches over the bus and over HTTP', async () => {
    t = await startBusTower({ script: [{ text: 'remote answer' }] });
    const session = await t.tower.commands.execute('sessions.create', { title: 'cli remote' });
    const reg = ['--registry-dir', t.registryDir];

    const list = capture();
    expect(await run(['instances', ...reg, '--json'], list.io)).toBe(0);
    const found = JSON.parse(list.stdout()) as Array<{ instance_id: string; mode: string; is_primary: boolean; rpc_port: number }>;
    expect(found).toEqual([expect.objectContaining({ instance_id: t.bus.instanceId, mode: 'tower', is_primary: true, rpc_port: t.bus.rpcPort })]);

    const watch = capture();
    const watching = run(['remote', t.bus.instanceId, 'watch', session.id, ...reg], watch.io);
    await waitFor(() => watch.stdout().includes('watching')).catch((e: unknown) => { throw new Error(`${String(e)}: ${watch.stdout()} ${watch.stderr()}`); });

    const sessions = capture();
    expect(await run(['remote', t.bus.instanceId.slice(0, 8), 'sessions', ...reg], sessions.io)).toBe(0);
    expect(sessions.stdout()).toContain(`${session.id}  cli remote  0 msgs`);

    const sent = capture();
    expect(await run(['remote', t.rpc, 'send', session.id, 'hello', 'there'], sent.io)).toBe(0);
    expect(sent.stdout()).toMatch(/^started turn_/);
    await waitFor(() => watch.stdout().includes('[assistant] remote answer')).catch((e: unknown) => { throw new Error(`${String(e)}: ${watch.stdout()} ${watch.stderr()}`); });
    expect(watch.stdout()).toContain('[user] hello there');
    watch.interrupt();
    expect(await watching).toBe(0);

    expect(await t.tower.manager.waitIdle(session.id, 10_000)).toBe(true);
    const stop = capture();
    expect(await run(['remote', t.tower.url, 'interrupt', session.id], stop.io)).toBe(0);
    expect(stop.stdout()).toBe('nothing was running\n');
    const overHttp = capture();
    expect(await run(['remote', t.tower.url, 'sessions', '--json'], overHttp.io)).toBe(0);
    expect(JSON.parse(overHttp.stdout())).toEqual([expect.objectContaining({ id: session.id, message_count: 2 })]);
  });

  it('says clearly what is wrong', async () => {
    const bad = capture();
    expect(await run(['remote', 'no-such-instance', 'sessions', '--registry-dir', '/nonexistent'], bad.io)).toBe(1);
    expect(bad.stderr()).toMatch(/no running instance "no-such-instance"/);
    const action = capture();
    expect(await run(['remote', 'tcp://127.0.0.1:9', 'explode'], action.io)).toBe(1);
    expect(action.stderr()).toMatch(/unknown action "explode"/);
  });
});
