import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessagingClient } from '../../src/client/index.js';
import { startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';
import type { ThreadMessage } from '../../src/protocol/messaging.js';
import { NO_POSTGRES, assertPostgresReachable } from '../../src/store/postgres/test-db.js';
import { ProcessCluster } from '../support/cluster.js';
import { HubClient, type Frame } from '../support/hub.js';
import type { TowerProcess } from '../support/process.js';

const seqsOf = (frames: Frame[], threadId: string): number[] =>
  frames.flatMap((f) => {
    if (f.type === 'batch' && f.data?.thread_id === threadId) return (f.data.messages as { message_seq: number }[]).map((m) => m.message_seq);
    if (f.type === 'message' && f.data?.thread_id === threadId) return [f.data.message_seq as number];
    return [];
  });

describe.skipIf(NO_POSTGRES)('messaging across two Tower processes on one Postgres and one Redis', () => {
  const cluster = new ProcessCluster('clustermsg');
  const spawnNode = (): Promise<TowerProcess> => cluster.spawnNode(fake);
  let fake: FakeModelServer;

  beforeAll(async () => {
    await assertPostgresReachable();
    fake = await startFakeModelServer({ format: 'openai', script: [] });
  });
  afterAll(async () => {
    await cluster.close();
    await fake?.close();
  });

  it('a message posted on node A reaches hub and SDK watchers on node B, live, in message_seq order', async () => {
    const a = await spawnNode();
    const b = await spawnNode();
    const onA = new MessagingClient({ url: a.url });
    const onB = new MessagingClient({ url: b.url });
    await onA.createThread({ id: 'plan', title: 'across nodes' });
    await onA.post('plan', { content: 'before the watch' });

    const hub = await HubClient.connect(b.url);
    hub.send('subscribe', { thread_id: 'plan', from_seq: 0 });
    await hub.next((f) => f.type === 'thread_state' && f.data?.last_seq === 1);
    await hub.next(() => seqsOf(hub.frames, 'plan').includes(1));

    const ac = new AbortController();
    const sdk: ThreadMessage[] = [];
    const watched = (async () => {
      for await (const m of onB.watchThread('plan', { signal: ac.signal })) {
        sdk.push(m);
        if (m.message_seq === 1) await onA.post('plan', { content: 'live from A', from_type: 'agent', from_id: 'a1' });
        if (sdk.length === 2) ac.abort();
      }
    })();
    await watched;
    expect(sdk.map((m) => [m.message_seq, m.content])).toEqual([[1, 'before the watch'], [2, 'live from A']]);

    const live = await hub.next((f) => f.type === 'message' && f.data?.message_seq === 2);
    expect(live.data).toMatchObject({ thread_id: 'plan', content: 'live from A', from_id: 'a1' });
    await onA.setThreadStatus('plan', 'paused');
    await hub.next((f) => f.type === 'thread_state' && f.data?.status === 'paused');
    expect(seqsOf(hub.frames, 'plan')).toEqual([1, 2]);

    // An inbox message sent through node A is in node B's inbox and announced to B's hub subscribers.
    const from = hub.frames.length;
    hub.send('subscribe', { topics: ['inbox_message'] });
    await hub.next((f) => f.type === 'subscribed', from);
    const sent = await onA.sendInbox('bob', { from_agent: 'ana', title: 'from A' });
    expect((await hub.next((f) => f.type === 'inbox_message' && f.data?.id === sent.id)).data).toMatchObject({ to_inbox: 'bob' });
    expect((await onB.listInbox('bob')).messages.map((m) => m.id)).toEqual([sent.id]);
    hub.close();
  });

  it('a thread created on node A is on node B\'s hub threads topic and in its list before any message', async () => {
    const a = await spawnNode();
    const b = await spawnNode();
    const hub = await HubClient.connect(b.url);
    hub.send('subscribe', { topics: ['threads'] });
    await hub.next((f) => f.type === 'subscribed');
    await new MessagingClient({ url: a.url }).createThread({ id: 'fresh', title: 'made on A' });
    const state = await hub.next((f) => f.type === 'thread_state' && f.data?.thread_id === 'fresh');
    expect(state.data).toMatchObject({ title: 'made on A', last_seq: 0, status: 'active' });
    const list = await new MessagingClient({ url: b.url }).listThreads();
    expect(list.threads.map((t) => t.id)).toContain('fresh');
    hub.close();
  });
});
