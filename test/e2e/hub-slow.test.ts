import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EventSubscription } from '../../src/core/event-log/index.js';
import { HubClient, hubRig, type Frame } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

const rig = hubRig();

const socketOf = (c: HubClient): Socket => (c.ws as unknown as { _socket: Socket })._socket;

function eventSeqs(frames: Frame[]): number[] {
  return frames.flatMap((f) => {
    if (f.type === 'batch' && Array.isArray(f.data?.events)) return (f.data.events as { seq: number }[]).map((e) => e.seq);
    if (f.type === 'event') return [f.data?.seq as number];
    return [];
  });
}

describe('hub under a slow reader and external writers', () => {
  it('a client that stops reading while 20,000 events are appended: bounded backlog, then every event exactly once', async () => {
    const t = await rig.start({ hub: { writeWaitMs: 120_000, pongWaitMs: 120_000 } });
    const s = await t.tower.commands.execute('sessions.create', {});
    const c = await HubClient.connect(t.url);
    rig.track(c);
    c.send('subscribe', { session_id: s.id });
    await c.next((f) => f.type === 'batch' && f.data?.has_more === false);
    socketOf(c).pause();
    const pad = 'x'.repeat(1000);
    const total = 20_000;
    for (let i = 0; i < total; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => t.tower.log.append(s.id, { type: 'agent_choice', data: { content: `${i + j} ${pad}` } })));
    }
    const [conn] = [...t.hub.hub.connections];
    if (!conn) throw new Error('no server-side connection');
    // The reader is stalled: the server stopped at its backlog bound instead of queueing 20,000 frames.
    await waitFor(() => conn.outbox.maxBacklog >= conn.outbox.limit);
    const limit = conn.outbox.limit;
    socketOf(c).resume();
    const last = 1 + total;
    await waitFor(() => eventSeqs(c.frames).at(-1) === last, 60_000);
    expect(conn.outbox.maxBacklog).toBeGreaterThanOrEqual(limit);
    // At most one store page beyond the bound (the pump checks for room between pages).
    expect(conn.outbox.maxBacklog).toBeLessThanOrEqual(limit + 500);
    const sub = conn.subs.get(`session:${s.id}`) as unknown as EventSubscription;
    expect(sub.stats.maxQueued).toBeLessThanOrEqual(1024);
    expect(sub.stats.overflows).toBeGreaterThan(0);
    const seqs = eventSeqs(c.frames);
    expect(seqs.length).toBe(last);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }, 120_000);

  it('rows another process inserts into the SQLite file reach a hub subscriber, in order, each once', async () => {
    const t = await rig.start();
    await t.hub.messaging.createThread({ id: 'ext', title: 'external' });
    const c = await HubClient.connect(t.url);
    rig.track(c);
    c.send('subscribe', { thread_id: 'ext' });
    await c.next((f) => f.type === 'batch');
    const db = path.join(t.dataDir, 'tower.db');
    const code = `
      import Database from 'better-sqlite3';
      const db = new Database(process.argv[1]);
      db.pragma('busy_timeout = 5000');
      const ins = db.prepare("INSERT INTO thread_messages (thread_id, from_type, from_id, kind, content) VALUES ('ext', 'agent', 'outside', 'status', ?)");
      for (let i = 1; i <= 5; i++) { ins.run('external ' + i); console.log(Date.now()); }
      db.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, db], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += String(d)));
    const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(exit).toBe(0);
    const lastInsert = Number(out.trim().split('\n').at(-1));
    await c.next((f) => f.type === 'message' && f.data?.content === 'external 5');
    const receivedAt = Date.now();
    const got = c.frames.filter((f) => f.type === 'message').map((f) => [f.data?.message_seq, f.data?.content]);
    expect(got).toEqual([1, 2, 3, 4, 5].map((i) => [i, `external ${i}`]));
    // A generous bound only (speed is measured in bench/): a 500 ms poll would still pass, a lost wake-up would not.
    expect(receivedAt - lastInsert).toBeLessThan(5_000);
  });
});
