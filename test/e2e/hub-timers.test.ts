import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { HubClient, hubRig, type Frame } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

const rig = hubRig();

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

describe('hub deadlines and stalled thread readers', () => {
  it('pings clients; one that never answers is cut after the pong wait, one that answers stays', async () => {
    const t = await rig.start({ hub: { pingMs: 50, pongWaitMs: 300 } });
    const good = await HubClient.connect(t.url);
    rig.track(good);
    let pings = 0;
    good.ws.on('ping', () => pings++);
    const mute = new WebSocket(`${t.url.replace('http', 'ws')}/hub/ws`, { autoPong: false });
    const closed = new Promise<number>((resolve) => mute.on('close', (code) => resolve(code)));
    await new Promise((resolve) => mute.once('open', resolve));
    expect(await closed).toBe(1006);
    await waitFor(() => pings >= 3);
    good.send('ping');
    await good.next((f) => f.type === 'pong');
  });

  it('a reader whose frames wait longer than the write wait is disconnected', async () => {
    const t = await rig.start({ hub: { writeWaitMs: 300, pongWaitMs: 60_000 } });
    const s = await t.tower.commands.execute('sessions.create', {});
    const c = await HubClient.connect(t.url);
    rig.track(c);
    c.send('subscribe', { session_id: s.id });
    await c.next((f) => f.type === 'batch');
    socketOf(c.ws).pause();
    const pad = 'y'.repeat(2000);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, () => t.tower.log.append(s.id, { type: 'agent_choice', data: { content: pad } })));
    }
    await waitFor(() => t.hub.hub.connections.size === 0, 20_000);
  });

  it('a stalled thread reader: bounded backlog, then every message exactly once', async () => {
    const t = await rig.start({ hub: { backlogLimit: 50, writeWaitMs: 120_000 } });
    await t.hub.messaging.createThread({ id: 'big' });
    const c = await HubClient.connect(t.url);
    rig.track(c);
    c.send('subscribe', { thread_id: 'big' });
    await c.next((f) => f.type === 'batch');
    socketOf(c.ws).pause();
    const pad = 'z'.repeat(5000);
    for (let i = 1; i <= 4000; i++) await t.hub.messaging.post('big', { content: `${i} ${pad}` });
    const [conn] = [...t.hub.hub.connections];
    if (!conn) throw new Error('no connection');
    // The reader stalled: the connection reached its bound (and waits for room instead of queueing).
    await waitFor(() => conn.outbox.maxBacklog >= conn.outbox.limit);
    socketOf(c.ws).resume();
    const seqs = (): number[] =>
      c.frames.flatMap((f: Frame) =>
        f.type === 'message' ? [f.data?.message_seq as number] : f.type === 'batch' ? (f.data?.messages as { message_seq: number }[]).map((m) => m.message_seq) : [],
      );
    await waitFor(() => seqs().at(-1) === 4000, 60_000);
    expect(seqs()).toEqual(Array.from({ length: 4000 }, (_, i) => i + 1));
    // Pulled only while there was room: at most one page (50) past the bound, plus the state frames.
    expect(conn.outbox.maxBacklog).toBeLessThanOrEqual(50 + 50 + 5);
  }, 90_000);
});
