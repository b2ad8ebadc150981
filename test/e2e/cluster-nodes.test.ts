import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TowerClient } from '../../src/client/index.js';
import { startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable } from '../../src/store/postgres/test-db.js';
import { FAST_LEASES, ProcessCluster, clusterScript } from '../support/cluster.js';
import type { TowerProcess } from '../support/process.js';
import { readFrames, type WireEventLike } from '../support/sse.js';

/**
 * One client's view of a session over SSE, across reconnects: every event it was sent, in order, and a
 * way to wait for one. `connect` resolves when that connection ends (a node killed cuts it).
 */
class Watcher {
  readonly events: WireEventLike[] = [];
  private waiters: Array<{ test: (all: WireEventLike[]) => boolean; resolve: () => void }> = [];
  private ctrl = new AbortController();

  constructor(private readonly sessionId: string) {}

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  async connect(baseUrl: string): Promise<void> {
    this.ctrl = new AbortController();
    const headers: Record<string, string> = this.events.length ? { 'Last-Event-ID': String(this.lastSeq) } : {};
    const res = await fetch(`${baseUrl}/api/sessions/${this.sessionId}/events`, { headers, signal: this.ctrl.signal });
    if (res.status !== 200) throw new Error(`events: HTTP ${res.status}: ${await res.text()}`);
    try {
      for await (const frame of readFrames(res)) {
        if (frame.data === undefined) continue;
        this.events.push(JSON.parse(frame.data) as WireEventLike);
        this.waiters = this.waiters.filter((w) => (w.test(this.events) ? (w.resolve(), false) : true));
      }
    } catch {
      // The node went away mid-stream: the caller reconnects elsewhere.
    }
  }

  until(test: (all: WireEventLike[]) => boolean): Promise<void> {
    if (test(this.events)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  close(): void {
    this.ctrl.abort();
  }
}

const stops = (events: WireEventLike[]): unknown[] => events.filter((e) => e.type === 'stream_stopped').map((e) => e.reason);
const userTexts = (events: WireEventLike[]): unknown[] => events.filter((e) => e.type === 'user_message').map((e) => e.content);

describe.skipIf(NO_POSTGRES)('three tower serve processes on one Postgres and one Redis', () => {
  // Pando's instance bus (ZeroMQ, one per working dir) is not what this test is about.
  const cluster = new ProcessCluster('node', { TOWER_BUS: '0', ...FAST_LEASES });
  const { schema } = cluster;
  const spawnNode = (): Promise<TowerProcess> => cluster.spawnNode(fake);
  let fake: FakeModelServer;

  beforeAll(async () => {
    await assertPostgresReachable();
    fake = await startFakeModelServer({ format: 'openai', script: clusterScript(60) });
  });
  afterAll(async () => {
    await cluster.close();
    await fake?.close();
  });

  it('watch on node 2, command through node 3, kill node 1 mid-turn: recovered, nothing lost or repeated, the follow-up delivered', async () => {
    const node1 = await spawnNode();
    const node2 = await spawnNode();
    const node3 = await spawnNode();
    const on1 = new TowerClient({ url: node1.url });
    const on3 = new TowerClient({ url: node3.url });
    const session = await on1.createSession();
    const id = session.id;
    const watchers = [new Watcher(id), new Watcher(id), new Watcher(id)] as const;
    const [w1, w2, w3] = watchers;
    const cut = w1.connect(node1.url);
    void w2.connect(node2.url);
    void w3.connect(node3.url);

    // A turn on node 1, steered and then interrupted through node 3; node 2 watches.
    await on1.send(id, 'a slow start');
    await w2.until((all) => all.some((e) => e.type === 'agent_choice'));
    expect(await on3.status(id)).toMatchObject({ status: 'running' });
    expect((await on3.steer(id, 'steered through node 3')).depth).toBe(1);
    expect(await on3.interrupt(id)).toMatchObject({ interrupted: true });
    // The steered message was left in the queue: it opens the next turn, still on node 1.
    await w2.until((all) => stops(all).length === 2);
    expect(stops(w2.events)).toEqual(['canceled', 'normal']);

    // A second turn on node 1, a follow-up queued through node 3, then node 1 dies mid-stream.
    await on1.send(id, 'slow again, then die');
    const streaming = (all: WireEventLike[]): boolean => {
      const opened = all.findLastIndex((e) => e.type === 'user_message');
      return opened >= 0 && all.slice(opened).some((e) => e.type === 'agent_choice');
    };
    await w2.until(streaming);
    const queued = await on3.followup(id, 'queued before the crash');
    expect(queued.status).toBe('queued_streaming');
    await w1.until(streaming);
    node1.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await node1.exited;
    await cut;
    // The client of node 1 comes back on a surviving node, from where it was (Last-Event-ID).
    void w1.connect(node2.url);

    await w2.until((all) => stops(all).length === 3);
    expect(stops(w2.events)[2]).toBe('server_restart');
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    await w2.until((all) => stops(all).length === 4);
    expect(stops(w2.events)[3]).toBe('normal');
    expect(userTexts(w2.events)).toEqual(['a slow start', 'steered through node 3', 'slow again, then die', 'queued before the crash']);

    // Every client has exactly the store's log: each committed event once, in order.
    const store = await PostgresStore.open(TEST_PG_URL, { schema });
    try {
      const last = (await store.lastSeq(id)) as number;
      const stored = await store.readEvents(id, 0, 10_000);
      for (const w of watchers) {
        await w.until((all) => (all.at(-1)?.seq ?? 0) >= last);
        expect(w.events.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
        expect(w.events.map((e) => e.type)).toEqual(stored.map((e) => e.type));
      }
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      // One recovery: a single server_restart, by whichever survivor took the lease.
      expect(stored.filter((e) => e.type === 'stream_stopped').map((e) => (e.data as { reason: string }).reason)).toEqual([
        'canceled',
        'normal',
        'server_restart',
        'normal',
      ]);
      expect(await store.getState(id, 'active_turn')).toBeUndefined();
    } finally {
      await store.close();
      for (const w of watchers) w.close();
    }
    // The session stays usable from any surviving node.
    expect(await new TowerClient({ url: node2.url }).status(id)).toMatchObject({ status: 'idle', queue: { followup: 0 } });
  }, 90_000);
});
