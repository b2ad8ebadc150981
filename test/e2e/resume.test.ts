import { afterEach, describe, expect, it } from 'vitest';
import type { TowerEvent } from '../../src/client/index.js';
import { startTestTower, type TestTower } from '../support/harness.js';
import { collectEvents, range, seqs } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

const paced = (text: string, tokensPerSecond = 200) => ({ text, tokensPerSecond, usage: { input_tokens: 10, output_tokens: 40 } });
const longText = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');

let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('resuming the event stream', () => {
  it('a client cut off mid-turn that reconnects with Last-Event-ID gets exactly the missing events', async () => {
    t = await startTestTower({ script: [paced(longText)] });
    const session = await t.client.createSession();
    await t.client.send(session.id, 'talk slowly');
    const url = `${t.url}/api/sessions/${session.id}/events`;

    // Cut off after a few deltas, while the model is still streaming.
    const before = await collectEvents(url, { until: (_e, all) => all.filter((x) => x.type === 'agent_choice').length === 5 });
    const lastSeen = before.at(-1)!.seq;
    expect((await t.client.getSession(session.id)).status).toBe('running');

    const after = await collectEvents(url, {
      headers: { 'Last-Event-ID': String(lastSeen) },
      until: (e) => e.type === 'stream_stopped',
    });
    expect(after[0]?.seq).toBe(lastSeen + 1);
    const all = [...before, ...after];
    expect(seqs(all)).toEqual(range(1, all.length));
    const text = all.filter((e) => e.type === 'agent_choice').map((e) => e.content).join('');
    expect(text).toBe(longText);

    // The stored log is exactly what the two connections saw together.
    const stored = await t.store().readEvents(session.id, 0, 10_000);
    expect(seqs(stored)).toEqual(seqs(all.filter((e) => e.seq <= stored.length)));
  });

  it('`since` in the query works the same, and Last-Event-ID wins over it on reconnect', async () => {
    t = await startTestTower({ script: [{ text: 'one two three' }] });
    const session = await t.client.createSession();
    await t.client.send(session.id, 'hi');
    await t.tower.manager.waitIdle(session.id, 5_000);
    const last = (await t.client.snapshot(session.id)).last_event_seq;
    const url = `${t.url}/api/sessions/${session.id}/events`;
    const fromQuery = await collectEvents(`${url}?since=3`, { until: (e) => e.seq === last });
    expect(seqs(fromQuery)).toEqual(range(4, last));
    const fromHeader = await collectEvents(`${url}?since=1`, { headers: { 'Last-Event-ID': '5' }, until: (e) => e.seq === last });
    expect(seqs(fromHeader)).toEqual(range(6, last));
  });

  it('snapshot then tail from last_event_seq has no gap and no duplicate', async () => {
    t = await startTestTower({ script: [paced(longText, 400)] });
    const session = await t.client.createSession();
    await t.client.send(session.id, 'go');
    const snap = await t.client.snapshot(session.id);
    expect(snap.streaming).toBe(true);
    const tail = await collectEvents(`${t.url}/api/sessions/${session.id}/events?since=${snap.last_event_seq}`, {
      until: (e) => e.type === 'stream_stopped',
    });
    expect(seqs(tail)).toEqual(range(snap.last_event_seq + 1, snap.last_event_seq + tail.length));
  });
});

describe('restart', () => {
  it('keeps sessions, conversation and events, and a client resumes across it', async () => {
    t = await startTestTower({ script: [{ text: 'first answer' }, { text: 'second answer' }] });
    const session = await t.client.createSession();
    await t.client.send(session.id, 'first');
    await t.tower.manager.waitIdle(session.id, 5_000);

    const seen: TowerEvent[] = [];
    let reconnects = 0;
    const ctrl = new AbortController();
    const follower = (async () => {
      for await (const e of t!.client.events(session.id, { signal: ctrl.signal, onReconnect: () => reconnects++ })) {
        seen.push(e);
        if (e.type === 'stream_stopped' && seen.filter((x) => x.type === 'stream_stopped').length === 2) break;
      }
    })();
    // The title is written after the turn, in the background: wait for it, or the snapshot races it.
    await waitFor(() => seen.some((e) => e.type === 'stream_stopped') && seen.some((e) => e.type === 'session_title'));

    const before = { session: await t.client.getSession(session.id), messages: await t.client.messages(session.id) };
    const eventsBefore = await t.store().readEvents(session.id, 0, 1000);

    // Same data dir, same port: the follower's reconnects land on the new process.
    t = await t.restart();
    const again = { session: await t.client.getSession(session.id), messages: await t.client.messages(session.id) };
    expect(again.messages).toEqual(before.messages);
    expect(again.session).toMatchObject({ id: session.id, title: before.session.title, input_tokens: before.session.input_tokens });
    expect(await t.store().readEvents(session.id, 0, 1000)).toEqual(eventsBefore);

    await t.client.send(session.id, 'second');
    await follower;
    ctrl.abort();
    expect(reconnects).toBeGreaterThan(0);
    const seqList = seen.map((e) => ('seq' in e ? e.seq : -1));
    expect(seqList).toEqual(range(1, seqList.length));
    const texts = seen.flatMap((e) => (e.type === 'agent_choice' ? [e.content] : [])).join('');
    expect(texts).toBe('first answersecond answer');
  });

  it('a turn running when the server stopped is closed as server_restart, with its conversation valid', async () => {
    t = await startTestTower({ script: [{ text: 'never ends', hang: true }, { text: 'fine now' }] });
    const session = await t.client.createSession();
    await t.client.send(session.id, 'hang please');
    await waitFor(async () => (await t!.store().readEvents(session.id, 0, 100)).some((e) => e.type === 'agent_choice'));
    t = await t.restart();
    const events = await t.store().readEvents(session.id, 0, 1000);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', data: { reason: 'server_restart' } });
    expect((await t.client.getSession(session.id)).status).toBe('idle');
    const next = await t.client.send(session.id, 'again');
    const tail = await collectEvents(`${t.url}/api/sessions/${session.id}/events?since=${next.seq}`, {
      until: (e) => e.type === 'stream_stopped',
    });
    expect(tail.at(-1)).toMatchObject({ reason: 'normal' });
  });
});
