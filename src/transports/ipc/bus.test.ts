import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Publication } from '../../../test/support/fake-pando-clients.js';
import { MAX_RPC_FRAME_BYTES } from '../../protocol/pando-bus.js';
import { busRig } from './testing/bus-rig.js';

const rig = busRig();

describe('bus RPC framing, as Pando\'s Go client speaks it', () => {
  it('answers [empty][json] with the string id echoed, and numeric ids as numbers', async () => {
    const t = await rig.start();
    const d = await rig.dealer();
    const id = `req-${process.hrtime.bigint()}`;
    await d.send({ jsonrpc: '2.0', id, method: 'instance.ping', params: {} });
    const frames = await d.nextFrames();
    expect(frames).toHaveLength(2);
    expect(frames[0]!.length).toBe(0);
    const answer = JSON.parse(frames[1]!.toString()) as Record<string, unknown>;
    expect(answer).toMatchObject({ jsonrpc: '2.0', id, result: { status: 'ok', instance_id: t.bus.instanceId } });
    expect((answer.result as { uptime: string }).uptime).toMatch(/^[\d.]+(ms|s)$|^\d+m[\d.]+s$/);

    expect(await d.call('instance.ping', {}, 42)).toMatchObject({ id: 42, result: { status: 'ok' } });
    expect(await d.call('instance.ping', null)).toMatchObject({ result: { status: 'ok' } });
    await d.send({ jsonrpc: '2.0', id: 'no-params', method: 'session.list' });
    expect(await d.next()).toEqual({ jsonrpc: '2.0', id: 'no-params', result: [] });
    // Without the empty delimiter the request is still the last frame; the answer keeps Pando's shape.
    await d.sendFrames([JSON.stringify({ jsonrpc: '2.0', id: 'bare', method: 'instance.ping' })]);
    const bare = await d.nextFrames();
    expect(bare[0]!.length).toBe(0);
    expect(JSON.parse(bare[1]!.toString())).toMatchObject({ id: 'bare', result: { status: 'ok' } });
  });

  it('answers several DEALERs at once, each in its own order', async () => {
    const t = await rig.start();
    const session = await t.tower.commands.execute('sessions.create', { title: 'order' });
    const clients = await Promise.all([rig.dealer(), rig.dealer(), rig.dealer(), rig.dealer()]);
    const methods = ['session.list', 'instance.ping', 'session.get', 'message.list', 'instance.info'];
    await Promise.all(clients.map(async (c, ci) => {
      for (let i = 0; i < 25; i++) {
        const method = methods[(i + ci) % methods.length]!;
        await c.send({ jsonrpc: '2.0', id: `c${ci}-${i}`, method, params: { session_id: session.id } });
      }
    }));
    const answers = await Promise.all(clients.map(async (c) => {
      const ids: unknown[] = [];
      for (let i = 0; i < 25; i++) {
        const a = await c.next();
        expect(a.error, JSON.stringify(a)).toBeUndefined();
        ids.push(a.id);
      }
      return ids;
    }));
    answers.forEach((ids, ci) => expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `c${ci}-${i}`)));
  });

  it('gives junk the documented codes and keeps serving', async () => {
    await rig.start();
    const d = await rig.dealer();
    const codeOf = async (frames: Array<Buffer | string>): Promise<[unknown, unknown]> => {
      await d.sendFrames(frames);
      const a = await d.next();
      const err = a.error as { code: number; message: string } | undefined;
      return [err?.code, err?.message];
    };
    const empty = Buffer.alloc(0);
    expect((await codeOf([empty, 'not json {']))[0]).toBe(-32700);
    expect((await codeOf([empty, '']))[0]).toBe(-32700);
    expect((await codeOf([empty, '[1,2]']))[0]).toBe(-32600);
    expect((await codeOf([empty, '{"jsonrpc":"2.0","id":"x"}']))[0]).toBe(-32600);
    expect((await codeOf([empty, '{"jsonrpc":"1.0","id":"x","method":"instance.ping"}']))[0]).toBe(-32600);
    expect(await codeOf([empty, '{"jsonrpc":"2.0","id":"x","method":"nope.nothing"}'])).toEqual([-32601, 'ipc: method not found']);
    expect(await codeOf([empty, '{"jsonrpc":"2.0","id":"x","method":"__proto__"}'])).toEqual([-32601, 'ipc: method not found']);
    expect((await codeOf([empty, '{"jsonrpc":"2.0","id":"x","method":"session.get","params":{}}']))[0]).toBe(-32602);
    expect((await codeOf([empty, '{"jsonrpc":"2.0","id":"x","method":"session.get","params":"str"}']))[0]).toBe(-32602);
    expect((await codeOf([empty, '{"jsonrpc":"2.0","id":"x","method":"message.send","params":{"session_id":"s","content":""}}']))[0]).toBe(-32602);
    const missing = await codeOf([empty, '{"jsonrpc":"2.0","id":"x","method":"session.get","params":{"session_id":"nope"}}']);
    expect(missing[0]).toBe(-32000);
    expect(missing[1]).toMatch(/^session\.get: /);
    expect((await codeOf([empty, Buffer.alloc(MAX_RPC_FRAME_BYTES + 10, 0x20)]))[0]).toBe(-32600);
    expect((await codeOf([empty, 'a', 'b']))[0]).toBe(-32600);
    // The answer to a request without an id still comes (id null), so the next answer is not shifted.
    await d.send({ jsonrpc: '2.0', method: 'instance.ping' });
    expect(await d.next()).toMatchObject({ id: null, result: { status: 'ok' } });
    expect(await d.call('instance.ping', {}, 'after-junk')).toMatchObject({ id: 'after-junk', result: { status: 'ok' } });
  });
});

describe('bus methods and topics on Tower sessions', () => {
  it('drives a turn and publishes every topic once with real values', async () => {
    const big = 'x'.repeat(2000);
    const t = await rig.start({
      script: [
        { tool_calls: [{ name: 'read', args: { path: 'big.txt' } }], usage: { input_tokens: 11, output_tokens: 3 } },
        { text: 'all done here', usage: { input_tokens: 17, output_tokens: 5 } },
      ],
    });
    writeFileSync(path.join(t.workDir, 'big.txt'), big);
    const s = await rig.sub();
    const d = await rig.dealer();
    const session = await t.tower.commands.execute('sessions.create', { title: 'bus turn' });
    await s.until((all) => all.some((p) => p.topic === 'session.list'), 10_000, 'session.list');
    expect(s.of('session.list')[0]!.envelope.payload).toEqual({ sessions: [expect.objectContaining({ id: session.id, title: 'bus turn' })] });

    const sent = await d.call('message.send', { session_id: session.id, content: 'read it' });
    expect(sent.result).toMatchObject({ ok: true, status: 'started' });
    expect(await t.tower.manager.waitIdle(session.id, 15_000)).toBe(true);
    await s.until((all) => all.some((p) => p.topic === 'llm.end' && p.envelope.payload.tokens_out === 5), 15_000, 'end of turn');
    await t.bus.topics.settled();
    await s.until((all) => all.filter((p) => p.topic === 'message.append').length >= 3, 10_000, 'message.append');

    const sid = session.id;
    expect(s.of('llm.start').map((p) => p.envelope.payload)).toEqual([{ session_id: sid }, { session_id: sid }]);
    expect(s.of('llm.end').map((p) => p.envelope.payload)).toEqual([
      { session_id: sid, tokens_in: 11, tokens_out: 3 },
      { session_id: sid, tokens_in: 17, tokens_out: 5 },
    ]);
    expect(s.of('llm.token').map((p) => p.envelope.payload.token).join('')).toBe('all done here');
    const start = s.of('tool.start');
    expect(start).toHaveLength(1);
    expect(start[0]!.envelope.payload).toMatchObject({ session_id: sid, tool_name: 'read', params: JSON.stringify({ path: 'big.txt' }) });
    const end = s.of('tool.end');
    expect(end).toHaveLength(1);
    const result = end[0]!.envelope.payload.result as string;
    expect(result).toHaveLength(515);
    expect(result.endsWith('...')).toBe(true);
    expect(end[0]!.envelope.payload).toMatchObject({ is_error: false, call_id: start[0]!.envelope.payload.call_id });
    const appended = s.of('message.append').map((p) => p.envelope.payload);
    expect(appended.map((m) => m.role)).toEqual(['user', 'assistant', 'assistant']);
    expect(appended[0]).toMatchObject({ session_id: sid, content: 'read it' });
    expect(appended[2]).toMatchObject({ content: 'all done here' });
    expect(new Set(appended.map((m) => m.message_id)).size).toBe(3);

    // Envelopes: Pando's fields, the session id set on session topics, RFC 3339 UTC timestamps.
    for (const p of s.received) {
      expect(p.envelope).toMatchObject({ instanceId: t.bus.instanceId, projectId: '', topic: p.topic });
      expect(p.envelope.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      if (p.topic.startsWith('llm.') || p.topic.startsWith('tool.') || p.topic === 'message.append') expect(p.envelope.sessionId).toBe(sid);
    }
    const fresh = await t.tower.commands.execute('sessions.get', { session_id: sid });
    // Published is not yet received: wait for the frame itself.
    await s.until((all) => all.some((p) => p.topic === 'session.update' && p.envelope.payload.message_count === fresh.message_count));
    const updates = s.of('session.update');
    expect(updates.at(-1)!.envelope.payload).toMatchObject({ id: sid, title: 'bus turn', message_count: fresh.message_count });
    expect(fresh.message_count).toBeGreaterThan(0);
    const count = fresh.message_count;

    // message.list names the same messages the same way.
    const list = (await d.call('message.list', { session_id: sid })).result as Array<{ id: string; role: string; content: string }>;
    expect(list.map((m) => m.id)).toEqual(appended.map((m) => m.message_id));

    // activate → session.activated, state.sync and instance.info carry it.
    expect((await d.call('session.activate', { session_id: sid })).result).toEqual({ ok: true });
    await s.until((all) => all.some((p) => p.topic === 'session.activated'));
    expect(s.of('session.activated')[0]!.envelope.payload).toMatchObject({ id: sid, title: 'bus turn' });
    expect((await d.call('state.sync', { project_id: '' })).result).toEqual({
      sessions: [expect.objectContaining({ id: sid, message_count: count })], active_session_id: sid, instance_id: t.bus.instanceId,
    });
    expect((await d.call('instance.info')).result).toMatchObject({
      instance_id: t.bus.instanceId, pid: process.pid, session_count: 1, active_session_id: sid, workdir: t.workDir,
      endpoints: { pub: t.pub, rpc: t.rpc, http: t.tower.url },
    });
    expect((await d.call('session.get', { session_id: sid })).result).toMatchObject({ id: sid, title: 'bus turn', message_count: count });

    await t.tower.commands.execute('sessions.delete', { session_id: sid });
    await s.until((all) => all.some((p) => p.topic === 'session.deleted'));
    await t.bus.topics.settled();
    expect(s.of('session.deleted')[0]!.envelope.payload).toMatchObject({ id: sid, title: 'bus turn' });
    // The list is its own publication (coalesced, maybe a moment after session.deleted): wait for it to arrive.
    await s.until((all) => all.some((p) => p.topic === 'session.list' && (p.envelope.payload as { sessions: unknown[] }).sessions.length === 0), 10_000, 'empty session.list');
    expect(s.of('session.list').at(-1)!.envelope.payload).toEqual({ sessions: [] });
    expect((await d.call('state.sync')).result).toEqual({ sessions: [], instance_id: t.bus.instanceId });
  });

  it('queues a follow-up while a turn runs, and interrupts it', async () => {
    const t = await rig.start({ script: [{ text: 'slow answer that hangs', hang: true }, { text: 'second' }] });
    const s = await rig.sub();
    const d = await rig.dealer();
    const session = await t.tower.commands.execute('sessions.create', {});
    expect((await d.call('message.send', { session_id: session.id, content: 'first' })).result).toMatchObject({ status: 'started' });
    await s.until((all) => all.some((p) => p.topic === 'llm.token'));
    const queued = await d.call('message.send', { session_id: session.id, content: 'later' });
    expect(queued.result).toMatchObject({ ok: true, status: 'queued', item_ids: [expect.any(String)] });
    expect((await d.call('session.interrupt', { session_id: session.id })).result).toEqual({ ok: true, interrupted: true });
    await s.until((all) => all.some((p) => p.topic === 'llm.end'));
    expect(s.of('llm.end')[0]!.envelope.payload).toEqual({ session_id: session.id, tokens_in: 0, tokens_out: 0 });
    // The queued follow-up opens the next turn once the interrupted one has stopped.
    await s.until((all) => all.some((p) => p.topic === 'message.append' && p.envelope.payload.content === 'later'), 10_000, 'the follow-up');
    expect(await t.tower.manager.waitIdle(session.id, 10_000)).toBe(true);
    expect((await d.call('session.interrupt', { session_id: session.id })).result).toEqual({ ok: true, interrupted: false });
  });

  it('beats every heartbeat period with one instance id', async () => {
    const t = await rig.start({ bus: { heartbeatMs: 100 } });
    const s = await rig.sub();
    await s.until((all) => all.filter((p) => p.topic === 'instance.heartbeat').length >= 3);
    const beats = s.of('instance.heartbeat');
    expect(new Set(beats.map((b) => b.envelope.instanceId))).toEqual(new Set([t.bus.instanceId]));
    expect(beats[0]!.envelope.payload).toMatchObject({ instance_id: t.bus.instanceId, session_count: 0 });
    expect(typeof beats[0]!.envelope.payload.uptime).toBe('string');
  });

  it('sends exactly one instance.shutdown on close, and removes its registry file and lock', async () => {
    const t = await rig.start();
    const s = await rig.sub();
    const { existsSync } = await import('node:fs');
    expect(existsSync(t.bus.registryFile)).toBe(true);
    expect(existsSync(path.join(t.workDir, '.pando', 'ipc.lock'))).toBe(true);
    await t.stop();
    await s.until((all) => all.some((p) => p.topic === 'instance.shutdown' && p.envelope.instanceId === t.bus.instanceId));
    expect(s.of('instance.shutdown').filter((p) => p.envelope.instanceId === t.bus.instanceId)).toHaveLength(1);
    expect(existsSync(t.bus.registryFile)).toBe(false);
    expect(existsSync(path.join(t.workDir, '.pando', 'ipc.lock'))).toBe(false);
  });
});

type Row = [id: string, title: string];
const rowsOf = (p: Publication | undefined): Row[] | undefined =>
  (p?.envelope.payload.sessions as Array<{ id: string; title: string }> | undefined)?.map((s) => [s.id, s.title]);

describe('session.list kept one session at a time', () => {
  it('stays equal to the stored list through create, rename, turns, titles, fork and delete; a resync adds imports', async () => {
    // A long interval for a handful of sessions, so bursts go through the deferred (coalesced) path too.
    const t = await rig.start({ script: [{ text: 'first answer' }, { text: 'second answer' }, { text: 'third' }], bus: { list: { perSessionIntervalMs: 20, maxIntervalMs: 60 } } });
    const s = await rig.sub();
    const d = await rig.dealer();
    const { commands, manager } = t.tower;

    const stored = async (): Promise<Row[]> => ((await d.call('session.list')).result as Array<{ id: string; title: string }>).map((x) => [x.id, x.title]);
    const lastListed = (): string => JSON.stringify(rowsOf(s.of('session.list').at(-1)));
    // The truth is re-read until the last frame matches it: a background title may land in between.
    const listRight = async (what: string): Promise<Row[]> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        await t.bus.topics.settled();
        const want = await stored();
        const ok = await s.until(() => lastListed() === JSON.stringify(want), 200).then(() => true, () => false);
        if (ok) {
          expect(t.bus.topics.sessionCount).toBe(want.length);
          return want;
        }
        if (Date.now() > deadline) throw new Error(`session.list after ${what}: ${lastListed()} is not ${JSON.stringify(want)}`);
      }
    };

    const a = await commands.execute('sessions.create', { title: 'alpha' });
    const b = await commands.execute('sessions.create', { title: 'beta' });
    const c = await commands.execute('sessions.create', {});
    // The order is the store's (listRight compares it); sessions created in the same millisecond sort by id.
    expect((await listRight('three creations')).map(([id]) => id).sort()).toEqual([a.id, b.id, c.id].sort());

    await commands.execute('sessions.update', { session_id: b.id, title: 'beta renamed' });
    expect(await listRight('a rename')).toContainEqual([b.id, 'beta renamed']);

    // A turn's start and end (and, for the untitled session, its generated title).
    await commands.execute('sessions.send', { session_id: a.id, content: 'hello' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await commands.execute('sessions.send', { session_id: c.id, content: 'name me' });
    expect(await manager.waitIdle(c.id, 10_000)).toBe(true);
    await listRight('two turns');

    const fork = await commands.execute('sessions.fork', { session_id: a.id, message_index: 0 });
    expect((await listRight('a fork'))[0]).toEqual([fork.id, fork.title]);

    await commands.execute('sessions.delete', { session_id: b.id });
    expect((await listRight('a deletion')).map(([id]) => id)).not.toContain(b.id);

    // An import announces nothing on the event stream: the periodic full read brings it in.
    const exported = await commands.execute('sessions.export', { session_id: c.id });
    await commands.execute('sessions.delete', { session_id: c.id });
    await listRight('the second deletion');
    await commands.execute('sessions.import', { data: exported });
    expect((await stored()).map(([id]) => id)).toContain(c.id);
    await t.bus.topics.resyncList();
    expect((await listRight('a resync')).map(([id]) => id)).toContain(c.id);
  });
});
