import { describe, expect, it, vi } from 'vitest';
import { isTitleRequest, lastUserText, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';
import { SessionChangeDeriver } from '../../src/transports/hub/session-changes.js';
import { HubClient, hubRig, type Frame, type HubTower } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

const rig = hubRig();

async function connect(tt: HubTower, query?: string): Promise<HubClient> {
  const c = await HubClient.connect(tt.url, query ? { query } : {});
  rig.track(c);
  return c;
}

/** "hang" hangs (for steer/interrupt), "bash" asks for a bash call once, anything else echoes. */
function script(r: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(r)) return undefined;
  const last = r.messages[r.messages.length - 1];
  if (last?.role === 'tool') return { text: 'tool done' };
  const text = lastUserText(r);
  if (text.includes('hang')) return { text: 'thinking', hang: true };
  if (text.includes('two bash')) {
    return { text: 'running', tool_calls: ['call_b', 'call_c'].map((id) => ({ id, name: 'bash', args: { command: 'echo hi' } })) };
  }
  if (text.includes('bash')) return { text: 'running', tool_calls: [{ id: 'call_b', name: 'bash', args: { command: 'echo hi' } }] };
  return { text: `echo: ${text}` };
}

const eventSeqs = (frames: Frame[], sessionId: string): number[] =>
  frames.flatMap((f) => {
    if (f.type === 'batch' && f.data?.session_id === sessionId) return (f.data.events as { seq: number }[]).map((e) => e.seq);
    if (f.type === 'event' && f.data?.session_id === sessionId) return [f.data.seq as number];
    return [];
  });

const stoppedCount = (frames: Frame[]) => frames.filter((f) => f.type === 'event' && f.data?.type === 'stream_stopped').length;

describe('hub sessions and commands', () => {
  it('commands send, steer, interrupt and confirm over the hub; session events arrive in order, once', async () => {
    const t = await rig.start({ script });
    const c = await connect(t);
    const created = await c.command({ request_id: 'c1', op: 'sessions.create' });
    expect(created.data).toMatchObject({ ok: true });
    const id = (created.data?.result as { id: string }).id;
    c.send('subscribe', { session_id: id });
    await c.next((f) => f.type === 'batch' && f.data?.has_more === false);

    expect((await c.command({ request_id: 'r1', op: 'send', session_id: id, content: 'hello' })).data).toMatchObject({ ok: true, result: { turn_id: expect.any(String) } });
    await c.next(() => stoppedCount(c.frames) >= 1);

    await c.command({ request_id: 'r2', op: 'send', session_id: id, content: 'hang please' });
    await c.next((f) => f.type === 'event' && f.data?.type === 'agent_choice' && f.data?.content === 'thinking');
    expect((await c.command({ request_id: 'r3', op: 'steer', session_id: id, messages: [{ content: 'also this' }] })).data).toMatchObject({ ok: true });
    expect((await c.command({ request_id: 'r4', op: 'interrupt', session_id: id, clear_queue: true })).data).toMatchObject({ ok: true });
    await c.next(() => stoppedCount(c.frames) >= 2);
    expect(c.frames.find((f) => f.type === 'event' && f.data?.type === 'stream_stopped' && f.data?.reason === 'canceled')).toBeDefined();

    expect((await c.command({ request_id: 'r5', op: 'send', session_id: id, content: 'bash it' })).data).toMatchObject({ ok: true });
    await c.next((f) => f.type === 'event' && f.data?.type === 'tool_call_confirmation');
    expect((await c.command({ request_id: 'r6', op: 'confirm', session_id: id, tool_call_id: 'call_b', decision: 'approve' })).data).toMatchObject({ ok: true, result: { resolved: true } });
    await c.next((f) => f.type === 'event' && f.data?.type === 'tool_call_response');

    const last = (await (await fetch(`${t.url}/api/sessions/${id}`)).json()) as { last_event_seq: number };
    await c.next(() => eventSeqs(c.frames, id).at(-1) === last.last_event_seq || eventSeqs(c.frames, id).length >= last.last_event_seq);
    const seqs = eventSeqs(c.frames, id);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('a bad command gets a reply with the same error code as HTTP', async () => {
    const t = await rig.start({ script });
    const c = await connect(t);
    const id = ((await c.command({ request_id: 'c', op: 'sessions.create' })).data?.result as { id: string }).id;
    const cases: [Record<string, unknown>, string, RequestInit & { path: string }][] = [
      [{ op: 'send', session_id: 'nope', content: 'x' }, 'unknown_session', { path: '/api/sessions/nope/messages', method: 'POST', body: '{"content":"x"}' }],
      [{ op: 'send', session_id: id, content: '' }, 'invalid_request', { path: `/api/sessions/${id}/messages`, method: 'POST', body: '{"content":""}' }],
      [{ op: 'steer', session_id: id, messages: [{ content: 'x' }] }, 'session_idle', { path: `/api/sessions/${id}/steer`, method: 'POST', body: '{"messages":[{"content":"x"}]}' }],
      [{ op: 'confirm', session_id: id, tool_call_id: 'zz', decision: 'approve' }, 'not_found', { path: `/api/sessions/${id}/confirmations/zz`, method: 'POST', body: '{"decision":"approve"}' }],
      [{ op: 'set_model', session_id: id, model: 'no/such' }, 'unknown_model', { path: `/api/sessions/${id}`, method: 'PATCH', body: '{"model":"no/such"}' }],
    ];
    let n = 0;
    for (const [cmd, code, http] of cases) {
      const reply = await c.command({ request_id: `bad${n++}`, ...cmd });
      expect(reply.data, JSON.stringify(cmd)).toMatchObject({ ok: false, error: { code } });
      const res = await fetch(`${t.url}${http.path}`, { ...http, headers: { 'content-type': 'application/json' } });
      expect(((await res.json()) as { code: string }).code, http.path).toBe(code);
    }
  });

  it('resumes with from_seq, and after reconnect from the stored ack of its client_id', async () => {
    const t = await rig.start({ script });
    const mk = await (await fetch(`${t.url}/api/threads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"r"}' })).json();
    expect(mk).toMatchObject({ id: 'r' });
    for (let i = 0; i < 10; i++) await t.hub.messaging.post('r', { content: `m${i + 1}` });
    const a = await connect(t, 'client_id=watcher');
    a.send('subscribe', { thread_id: 'r', from_seq: 4 });
    await a.next((f) => f.type === 'batch' && f.data?.has_more === false);
    const got = a.frames.filter((f) => f.type === 'batch').flatMap((f) => (f.data?.messages as { message_seq: number }[]).map((m) => m.message_seq));
    expect(got).toEqual([5, 6, 7, 8, 9, 10]);
    a.send('ack', { thread_id: 'r', ack_seq: 7 });
    expect((await a.next((f) => f.type === 'ack')).data).toEqual({ thread_id: 'r', ack_seq: 7 });
    const mark = a.frames.length;
    a.send('ack', { thread_id: 'r', ack_seq: 3 });
    expect((await a.next((f) => f.type === 'ack', mark)).data).toEqual({ thread_id: 'r', ack_seq: 7 });
    a.send('ack', { thread_id: 'r', ack_seq: 11 });
    expect((await a.next((f) => f.type === 'error')).data?.code).toBe('INVALID_ACK');
    a.close();
    await a.closed;

    const b = await connect(t, 'client_id=watcher');
    b.send('subscribe', { thread_id: 'r' });
    expect((await b.next((f) => f.type === 'subscribed')).data).toMatchObject({ from_seq: 7 });
    await b.next((f) => f.type === 'batch' && f.data?.has_more === false);
    expect(b.frames.filter((f) => f.type === 'batch').flatMap((f) => (f.data?.messages as { message_seq: number }[]).map((m) => m.message_seq))).toEqual([8, 9, 10]);

    // The same for a session log, by the auth frame's client_id.
    const s = await t.tower.commands.execute('sessions.create', {});
    const c = await connect(t);
    c.send('auth', { client_id: 'sess-watcher' });
    await c.next((f) => f.type === 'authenticated');
    c.send('ack', { session_id: s.id, ack_seq: 1 });
    await c.next((f) => f.type === 'ack');
    c.send('subscribe', { session_id: s.id });
    expect((await c.next((f) => f.type === 'subscribed')).data).toMatchObject({ from_seq: 1, last_seq: 1 });
  });

  it('a deleted session ends its subscription with session_deleted', async () => {
    const t = await rig.start({ script });
    const s = await t.tower.commands.execute('sessions.create', {});
    const c = await connect(t);
    c.send('subscribe', { session_id: s.id });
    await c.next((f) => f.type === 'batch');
    await t.tower.commands.execute('sessions.delete', { session_id: s.id });
    await c.next((f) => f.type === 'event' && f.data?.type === 'session_deleted');
    const [conn] = [...t.hub.hub.connections];
    await waitFor(() => conn?.subKeys().length === 0);
    c.send('subscribe', { session_id: s.id });
    expect((await c.next((f) => f.type === 'error')).data?.code).toBe('SUBSCRIBE_FAILED');
  });

  it('broadcast topics reach only the connections that chose them', async () => {
    const t = await rig.start({ script });
    const all = await connect(t);
    const none = await connect(t);
    all.send('subscribe', { topics: ['telemetry', 'task_stream', 'inbox_message'] });
    await all.next((f) => f.type === 'subscribed');
    none.send('subscribe', { topics: ['runner'] });
    await none.next((f) => f.type === 'subscribed');
    const s = await t.tower.commands.execute('sessions.create', { title: 'watched' });
    await t.tower.commands.execute('sessions.send', { session_id: s.id, content: 'hi there' });
    const end = await all.next((f) => f.type === 'task_stream' && f.data?.stream_type === 'turn_end');
    expect(end.data).toMatchObject({ session_id: s.id, status: 'completed', agent_id: s.id, source_type: 'direct', directive: 'hi there' });
    const start = all.frames.find((f) => f.type === 'task_stream' && f.data?.stream_type === 'turn_start');
    expect(start?.data).toMatchObject({ task_id: end.data?.task_id, turn_num: 1, directive_full: 'hi there', workspace: expect.any(String) });
    expect(all.frames.some((f) => f.type === 'task_stream' && f.data?.stream_type === 'text')).toBe(true);
    await all.next((f) => f.type === 'telemetry' && f.data?.instance_id === s.id && f.data?.status === 'completed');
    await t.hub.messaging.sendInbox({ from_agent: 'x', to_inbox: 'y', title: 'note' });
    await all.next((f) => f.type === 'inbox_message' && f.data?.title === 'note');
    const snap = (await (await fetch(`${t.url}/api/telemetry`)).json()) as { sessions: { instance_id: string; turns: number }[] };
    expect(snap.sessions.find((x) => x.instance_id === s.id)).toMatchObject({ turns: 1 });
    none.send('ping');
    await none.next((f) => f.type === 'pong');
    expect(none.frames.map((f) => f.type)).toEqual(['subscribed', 'pong']);
  });
});

describe('hub inbox filter', () => {
  it('a subscriber that names inboxes gets only their messages; one that names none gets all', async () => {
    const t = await rig.start({ script });
    const mine = await connect(t);
    const two = await connect(t);
    const all = await connect(t);
    mine.send('subscribe', { topics: ['inbox_message'], inbox: 'alice' });
    expect((await mine.next((f) => f.type === 'subscribed')).data).toMatchObject({ topics: ['inbox_message'], inboxes: ['alice'] });
    two.send('subscribe', { topics: ['inbox_message'], inboxes: ['alice', 'bob'] });
    await two.next((f) => f.type === 'subscribed');
    all.send('subscribe', { topics: ['inbox_message'] });
    await all.next((f) => f.type === 'subscribed');
    for (const to of ['bob', 'carol', 'alice']) await t.hub.messaging.sendInbox({ from_agent: 'x', to_inbox: to, title: `to ${to}` });
    await all.next((f) => f.type === 'inbox_message' && f.data?.to_inbox === 'alice');
    await two.next((f) => f.type === 'inbox_message' && f.data?.to_inbox === 'alice');
    await mine.next((f) => f.type === 'inbox_message' && f.data?.to_inbox === 'alice');
    const inboxesOf = (c: HubClient) => c.frames.filter((f) => f.type === 'inbox_message').map((f) => f.data?.to_inbox);
    expect(inboxesOf(all)).toEqual(['bob', 'carol', 'alice']);
    expect(inboxesOf(two)).toEqual(['bob', 'alice']);
    expect(inboxesOf(mine)).toEqual(['alice']);
    // A filter without the topic, or junk names, are refused; the connection stays usable.
    mine.send('subscribe', { topics: ['threads'], inbox: 'alice' });
    expect((await mine.next((f) => f.type === 'error')).data?.code).toBe('INVALID_SUBSCRIBE');
    mine.send('subscribe', { topics: ['inbox_message'], inboxes: [] });
    expect((await mine.next((f) => f.type === 'error' && mine.frames.filter((x) => x.type === 'error').length === 2)).data?.code).toBe('INVALID_SUBSCRIBE');
    // Subscribing again without a filter widens it to every inbox.
    mine.send('subscribe', { topics: ['inbox_message'] });
    await mine.next((f) => f.type === 'subscribed' && f.data?.inboxes === undefined);
    await t.hub.messaging.sendInbox({ from_agent: 'x', to_inbox: 'dave', title: 'to dave' });
    await mine.next((f) => f.type === 'inbox_message' && f.data?.to_inbox === 'dave');
  });
});

const changesOf = (c: HubClient, id: string): Record<string, unknown>[] =>
  c.frames.filter((f) => f.type === 'session_change' && f.data?.session_id === id).map((f) => f.data as Record<string, unknown>);

/**
 * The hub's list topics, which the dashboard's session and thread lists follow instead of polling:
 * `sessions` (session_change: a row's new values, keyed by the session event's seq) and `threads`
 * (thread_state of every thread).
 */
describe('hub list topics', () => {
  it('sessions: created, running, waiting for approval, tokens, idle, renamed, starred, deleted, in seq order', async () => {
    const t = await rig.start({ script, policy: 'balanced' });
    const c = await connect(t);
    c.send('subscribe', { topics: ['sessions'] });
    await c.next((f) => f.type === 'subscribed');
    const s = await t.tower.commands.execute('sessions.create', { title: 'watched' });
    await c.next((f) => f.type === 'session_change' && f.data?.session_id === s.id);
    expect(changesOf(c, s.id)[0]).toMatchObject({ seq: 1, title: 'watched', model: s.model, working_dir: s.working_dir, status: 'idle', activity: 'idle' });

    await t.tower.commands.execute('sessions.send', { session_id: s.id, content: 'run bash' });
    const waiting = await c.next((f) => f.type === 'session_change' && f.data?.activity === 'waiting_confirmation');
    const pending = await t.tower.commands.execute('sessions.status', { session_id: s.id });
    const callId = pending.pending_confirmations[0]?.tool_call_id;
    expect(callId).toBeDefined();
    await t.tower.commands.execute('confirmations.answer', { session_id: s.id, tool_call_id: callId!, decision: 'approve' });
    await c.next((f) => f.type === 'session_change' && f.data?.status === 'idle' && Number(f.data?.seq) > Number(waiting.data?.seq));
    await t.tower.commands.execute('sessions.update', { session_id: s.id, title: 'renamed' });
    await t.tower.commands.execute('sessions.update', { session_id: s.id, starred: true });
    await c.next((f) => f.type === 'session_change' && f.data?.starred === true);
    await t.tower.commands.execute('sessions.delete', { session_id: s.id });
    await c.next((f) => f.type === 'session_change' && f.data?.deleted === true);

    const changes = changesOf(c, s.id);
    const seqs = changes.map((x) => Number(x.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(changes.map((x) => x.activity).filter(Boolean)).toEqual(['idle', 'running', 'waiting_confirmation', 'running', 'idle']);
    expect(changes.find((x) => x.input_tokens !== undefined)).toMatchObject({ input_tokens: expect.any(Number), cost: expect.any(Number) });
    expect(changes.some((x) => x.title === 'renamed')).toBe(true);
    // The session's own event log agrees: every change names one of its events.
    expect(changes.at(-1)).toMatchObject({ deleted: true });
  });

  it('sessions: nothing is derived or sent while nobody follows the topic; a later subscriber gets changes, counting waits of a turn begun before', async () => {
    const derive = vi.spyOn(SessionChangeDeriver.prototype, 'derive');
    const t = await rig.start({ script, policy: 'balanced' });
    // `other` follows another topic and the session itself, never `sessions`; raw text frames both ways.
    const other = await connect(t);
    const late = await connect(t);
    const subscribe = (c: HubClient, data: unknown) => c.raw(JSON.stringify({ type: 'subscribe', timestamp: Date.now(), data }));
    subscribe(other, { topics: ['runner'] });
    await other.next((f) => f.type === 'subscribed');
    const s = await t.tower.commands.execute('sessions.create', { title: 'unwatched' });
    subscribe(other, { session_id: s.id });
    await other.next((f) => f.type === 'subscribed' && f.data?.session_id === s.id);
    await t.tower.commands.execute('sessions.send', { session_id: s.id, content: 'run two bash' });
    const asked = (id: string) => (f: Frame) => f.type === 'event' && f.data?.type === 'tool_call_confirmation' && f.data?.tool_call_id === id;
    await other.next(asked('call_b'));
    await other.next(asked('call_c'));
    expect(derive).not.toHaveBeenCalled();

    subscribe(late, { topics: ['sessions'] });
    await late.next((f) => f.type === 'subscribed');
    const answer = (id: string) => t.tower.commands.execute('confirmations.answer', { session_id: s.id, tool_call_id: id, decision: 'approve' });
    await answer('call_b');
    // call_c, asked before anyone followed the list, still waits.
    await late.next((f) => f.type === 'session_change' && f.data?.session_id === s.id);
    await answer('call_c');
    await late.next((f) => f.type === 'session_change' && f.data?.status === 'idle');
    expect(changesOf(late, s.id).map((x) => x.activity).filter(Boolean)).toEqual(['waiting_confirmation', 'running', 'idle']);

    late.raw(JSON.stringify({ type: 'unsubscribe', timestamp: Date.now(), data: { topics: ['sessions'] } }));
    await late.next((f) => f.type === 'unsubscribed');
    const calls = derive.mock.calls.length;
    const seen = late.frames.length;
    await t.tower.commands.execute('sessions.update', { session_id: s.id, title: 'renamed unwatched' });
    await other.next((f) => f.type === 'event' && f.data?.type === 'session_updated');
    expect(derive.mock.calls.length).toBe(calls);
    expect(late.frames.slice(seen)).toEqual([]);
    expect(other.frames.filter((f) => f.type === 'session_change')).toEqual([]);
    derive.mockRestore();
  });

  it('threads: a thread_state for every thread as messages arrive and status changes, without subscribing to each', async () => {
    const t = await rig.start({ script });
    const c = await connect(t);
    const other = await connect(t);
    c.send('subscribe', { topics: ['threads'] });
    other.send('subscribe', { topics: ['sessions'] });
    await c.next((f) => f.type === 'subscribed');
    await other.next((f) => f.type === 'subscribed');
    const post = (p: string, body: unknown) => fetch(`${t.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/threads', { id: 'th1', title: 'one' })).status).toBe(201);
    // A new thread reaches the list before its first message, with its title.
    const created = await c.next((f: Frame) => f.type === 'thread_state' && f.data?.thread_id === 'th1');
    expect(created.data).toMatchObject({ last_seq: 0, status: 'active', title: 'one', created_at: expect.any(String) });
    expect((await post('/api/threads/th1/messages', { content: 'hi', from_type: 'agent', from_id: 'a1' })).status).toBe(201);
    await c.next((f: Frame) => f.type === 'thread_state' && f.data?.thread_id === 'th1' && f.data?.last_seq === 1);
    expect((await post('/api/threads/th1/status', { status: 'resolved' })).status).toBe(200);
    await c.next((f: Frame) => f.type === 'thread_state' && f.data?.thread_id === 'th1' && f.data?.status === 'resolved');
    expect(other.frames.filter((f) => f.type === 'thread_state')).toEqual([]);
    // Junk on the topic list is refused with the seed's code; the connection stays usable.
    c.send('subscribe', { topics: ['threads', 'everything'] });
    expect((await c.next((f) => f.type === 'error')).data?.code).toBe('INVALID_SUBSCRIBE');
    c.send('ping');
    await c.next((f) => f.type === 'pong');
  });
});
