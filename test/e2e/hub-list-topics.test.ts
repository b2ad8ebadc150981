import { afterEach, describe, expect, it } from 'vitest';
import { isTitleRequest, lastUserText, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';
import { HubClient, startHubTower, type Frame, type HubTower } from '../support/hub.js';

/**
 * The hub's list topics, which the dashboard's session and thread lists follow instead of polling:
 * `sessions` (session_change: a row's new values, keyed by the session event's seq) and `threads`
 * (thread_state of every thread).
 */
let t: HubTower | undefined;
const clients: HubClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.close();
  t = undefined;
});

async function connect(tt: HubTower): Promise<HubClient> {
  const c = await HubClient.connect(tt.url);
  clients.push(c);
  return c;
}

function script(r: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(r)) return undefined;
  if (r.messages.at(-1)?.role === 'tool') return { text: 'tool done' };
  if (lastUserText(r).includes('bash')) return { text: 'running', tool_calls: [{ id: 'call_b', name: 'bash', args: { command: 'echo hi' } }], usage: { input_tokens: 40, output_tokens: 5 } };
  return { text: 'hello', usage: { input_tokens: 10, output_tokens: 2 } };
}

const changesOf = (c: HubClient, id: string): Record<string, unknown>[] =>
  c.frames.filter((f) => f.type === 'session_change' && f.data?.session_id === id).map((f) => f.data as Record<string, unknown>);

describe('hub list topics', () => {
  it('sessions: created, running, waiting for approval, tokens, idle, renamed, starred, deleted, in seq order', async () => {
    t = await startHubTower({ script, policy: 'balanced' });
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

  it('threads: a thread_state for every thread as messages arrive and status changes, without subscribing to each', async () => {
    t = await startHubTower({ script });
    const c = await connect(t);
    const other = await connect(t);
    c.send('subscribe', { topics: ['threads'] });
    other.send('subscribe', { topics: ['sessions'] });
    await c.next((f) => f.type === 'subscribed');
    await other.next((f) => f.type === 'subscribed');
    const post = (p: string, body: unknown) => fetch(`${t!.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/api/threads', { id: 'th1', title: 'one' })).status).toBe(201);
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
