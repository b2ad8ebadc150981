import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTitleRequest, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';
import { startTestTower, type TestTower } from '../support/harness.js';
import { collectEvents, range, seqs, type WireEventLike } from '../support/sse.js';
import { isProcessAlive, waitFor } from '../support/wait.js';

let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const modelRequests = (tt: TestTower): ParsedRequest[] => tt.fake.parsed.filter((r) => !isTitleRequest(r));
const lastUser = (r: ParsedRequest): string => [...r.messages].reverse().find((m) => m.role === 'user')?.text ?? '';

/** Answers each user message with "re: <message>", and runs bash when the message asks for it. */
function echoScript(extra: (r: ParsedRequest) => ScriptResponse | undefined = () => undefined) {
  return (r: ParsedRequest): ScriptResponse | undefined => {
    if (isTitleRequest(r)) return undefined;
    const own = extra(r);
    if (own) return own;
    return { text: `re: ${lastUser(r)}`, usage: { input_tokens: 3, output_tokens: 3 } };
  };
}

async function turnEvents(tt: TestTower, id: string, since: number, stops = 1): Promise<WireEventLike[]> {
  return collectEvents(`${tt.url}/api/sessions/${id}/events?since=${since}`, {
    until: (_e, all) => all.filter((x) => x.type === 'stream_stopped').length === stops,
  });
}

const post = (tt: TestTower, p: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${tt.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

describe('steer', () => {
  it('a steer sent during a tool call is seen by the next model request', async () => {
    t = await startTestTower({
      script: echoScript((r) =>
        r.messages.length === 1 ? { text: 'Working.', tool_calls: [{ name: 'bash', args: { command: 'sleep 0.6; echo slept' } }] } : undefined,
      ),
    });
    const s = await t.client.createSession({ permissions: { policy: 'autonomous' } });
    const sent = await t.client.send(s.id, 'start');
    await collectEvents(`${t.url}/api/sessions/${s.id}/events`, { until: (e) => e.type === 'tool_call' });
    const res = await post(t, `/api/sessions/${s.id}/steer`, { messages: [{ content: 'also mention the weather' }] });
    expect(res.status).toBe(202);
    const events = await turnEvents(t, s.id, 'seq' in sent ? sent.seq - 1 : 0);
    const steered = events.find((e) => e.type === 'user_message' && e.steered === true);
    expect(steered).toMatchObject({ content: 'also mention the weather' });
    expect(events.findIndex((e) => e === steered)).toBeGreaterThan(events.findIndex((e) => e.type === 'tool_call_response'));
    const second = modelRequests(t)[1]!;
    expect(second.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(lastUser(second)).toBe('also mention the weather');
    expect(events.at(-1)).toMatchObject({ reason: 'normal' });
  });

  it('refuses when idle (409 session_idle) and when full (429 with Retry-After)', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'hang' ? { text: 'x', hang: true } : undefined)) });
    const s = await t.client.createSession();
    const idle = await post(t, `/api/sessions/${s.id}/steer`, { messages: [{ content: 'x' }] });
    expect(idle.status).toBe(409);
    expect(((await idle.json()) as { code: string }).code).toBe('session_idle');
    await t.client.send(s.id, 'hang');
    const five = await post(t, `/api/sessions/${s.id}/steer`, { messages: Array.from({ length: 5 }, (_, i) => ({ content: `s${i}` })) });
    expect(five.status).toBe(202);
    const sixth = await post(t, `/api/sessions/${s.id}/steer`, { messages: [{ content: 'one too many' }] });
    expect(sixth.status).toBe(429);
    expect(sixth.headers.get('retry-after')).toBe('1');
    expect(((await sixth.json()) as { code: string }).code).toBe('steer_queue_full');
    const q = await t.client.queue(s.id);
    expect(q.steer).toMatchObject({ depth: 5, capacity: 5 });
  });
});

describe('follow-ups', () => {
  it('run as separate turns in FIFO order', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'first' ? { text: 'slow first', tokensPerSecond: 20 } : undefined)) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'first');
    const res = await post(t, `/api/sessions/${s.id}/followup`, { messages: [{ content: 'second' }, { content: 'third' }] });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'queued_streaming', depth: 2 });
    const events = await turnEvents(t, s.id, 0, 3);
    const turns = events.filter((e) => e.type === 'user_message').map((e) => e.content);
    expect(turns).toEqual(['first', 'second', 'third']);
    expect(events.filter((e) => e.type === 'stream_started')).toHaveLength(3);
    expect(modelRequests(t).map(lastUser)).toEqual(['first', 'second', 'third']);
    expect(seqs(events)).toEqual(range(1, events.length));
  });

  it('start at once when idle', async () => {
    t = await startTestTower({ script: echoScript() });
    const s = await t.client.createSession();
    const res = await post(t, `/api/sessions/${s.id}/followup`, { messages: [{ content: 'now' }] });
    expect(await res.json()).toMatchObject({ status: 'queued_idle' });
    const events = await turnEvents(t, s.id, 0);
    expect(events.filter((e) => e.type === 'agent_choice').map((e) => e.content).join('')).toBe('re: now');
  });

  it('the same Idempotency-Key sent 20 times concurrently yields one delivery', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'busy' ? { text: 'busy for a bit', tokensPerSecond: 30 } : undefined)) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'busy');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(t!, `/api/sessions/${s.id}/followup`, { messages: [{ content: 'exactly once' }] }, { 'Idempotency-Key': 'k-123' }).then(
          async (r) => ((await r.json()) as { status: string }).status,
        ),
      ),
    );
    expect(answers.filter((a) => a === 'duplicate')).toHaveLength(19);
    expect(answers.filter((a) => a === 'queued_streaming')).toHaveLength(1);
    const events = await turnEvents(t, s.id, 0, 2);
    expect(events.filter((e) => e.type === 'message_queued')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'user_message').map((e) => e.content)).toEqual(['busy', 'exactly once']);
    // Remembered durably: after a restart the key is still a duplicate.
    t = await t.restart();
    const again = await post(t, `/api/sessions/${s.id}/followup`, { messages: [{ content: 'exactly once' }] }, { 'Idempotency-Key': 'k-123' });
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
  });

  it('send with on_busy: enqueue queues, interrupt replaces, reject refuses', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'long' ? { text: 'a b c d e f g h', tokensPerSecond: 10 } : undefined)) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'long');
    const rejected = await post(t, `/api/sessions/${s.id}/messages`, { content: 'no', on_busy: 'reject' });
    expect(rejected.status).toBe(409);
    const queued = await post(t, `/api/sessions/${s.id}/messages`, { content: 'later', on_busy: 'enqueue' });
    expect(await queued.json()).toMatchObject({ status: 'queued_streaming' });
    const replaced = await post(t, `/api/sessions/${s.id}/messages`, { content: 'right now', on_busy: 'interrupt' });
    expect(replaced.status).toBe(202);
    expect(await replaced.json()).toHaveProperty('turn_id');
    const events = await turnEvents(t, s.id, 0, 3);
    expect(events.filter((e) => e.type === 'stream_stopped').map((e) => e.reason)).toEqual(['canceled', 'normal', 'normal']);
    expect(events.filter((e) => e.type === 'user_message' && !e.steered).map((e) => e.content)).toEqual(['long', 'right now', 'later']);
  });
});

describe('interrupt', () => {
  it('during streaming: stops within a second, keeps the partial text, the session takes the next message', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'talk' ? { text: 'one two three four five six seven eight nine ten', tokensPerSecond: 8 } : undefined)) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'talk');
    await collectEvents(`${t.url}/api/sessions/${s.id}/events`, { until: (e) => e.type === 'agent_choice' });
    const started = Date.now();
    const res = await post(t, `/api/sessions/${s.id}/interrupt`);
    expect(await res.json()).toMatchObject({ interrupted: true });
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await t.client.getSession(s.id)).status).toBe('idle');
    const { messages } = await t.client.messages(s.id);
    expect(messages.at(-1)?.message).toMatchObject({ role: 'assistant', partial: true });
    await waitFor(() => t!.fake.aborted.length > 0);
    const next = await t.client.send(s.id, 'hello again');
    const events = await turnEvents(t, s.id, 'seq' in next ? next.seq - 1 : 0);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
    const all = await t.store().readEvents(s.id, 0, 1000);
    expect(all.filter((e) => e.type === 'stream_stopped').map((e) => e.data.reason)).toEqual(['canceled', 'normal']);
  });

  it('during a long bash: kills the process tree, records a result for the call, session usable', async () => {
    t = await startTestTower({
      sandbox: 'none', // the test checks host pids; inside bwrap `$$` is a pid of the sandbox's namespace
      script: echoScript((r) =>
        lastUser(r) === 'run' && r.messages.length === 1
          ? { text: 'Running.', tool_calls: [{ name: 'bash', args: { command: 'echo $$ > pids; sleep 60 & echo $! >> pids; sleep 60' } }] }
          : undefined,
      ),
    });
    const s = await t.client.createSession({ permissions: { policy: 'autonomous' } });
    await t.client.send(s.id, 'run');
    const pidFile = path.join(t.workDir, 'pids');
    await waitFor(() => {
      try {
        return readFileSync(pidFile, 'utf8').trim().split('\n').length === 2;
      } catch {
        return false;
      }
    });
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids.every(isProcessAlive)).toBe(true);
    expect(await (await post(t, `/api/sessions/${s.id}/interrupt`)).json()).toMatchObject({ interrupted: true });
    await waitFor(() => !pids.some(isProcessAlive), 3000);
    const { messages } = await t.client.messages(s.id);
    expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[2]?.message).toMatchObject({ is_error: true });
    const idle = await t.client.send(s.id, 'still there?');
    const events = await turnEvents(t, s.id, 'seq' in idle ? idle.seq - 1 : 0);
    expect(events.at(-1)).toMatchObject({ reason: 'normal' });
  });

  it('an idle session answers interrupted: false', async () => {
    t = await startTestTower({ script: echoScript() });
    const s = await t.client.createSession();
    const res = await post(t, `/api/sessions/${s.id}/interrupt`, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ interrupted: false });
  });
});

describe('restart', () => {
  it('queued follow-ups and steers survive a restart and are delivered after it', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'stuck' ? { text: 'thinking', hang: true } : undefined)) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'stuck');
    await post(t, `/api/sessions/${s.id}/steer`, { messages: [{ content: 'steered before the crash' }] });
    await post(t, `/api/sessions/${s.id}/followup`, { messages: [{ content: 'after one' }, { content: 'after two' }] });
    expect((await t.client.queue(s.id)).followup.depth).toBe(2);
    t = await t.restart();
    const events = await turnEvents(t, s.id, 0, 4);
    const stops = events.filter((e) => e.type === 'stream_stopped').map((e) => e.reason);
    expect(stops).toEqual(['server_restart', 'normal', 'normal', 'normal']);
    const delivered = events.filter((e) => e.type === 'user_message').map((e) => e.content);
    expect(delivered).toEqual(['stuck', 'steered before the crash', 'after one', 'after two']);
    expect((await t.client.queue(s.id)).followup.depth).toBe(0);
  });
});

describe('model switching', () => {
  it('PATCH model applies to the next step, records model_changed, and refuses unknown models', async () => {
    t = await startTestTower({ script: echoScript() });
    const s = await t.client.createSession();
    const bad = await fetch(`${t.url}/api/sessions/${s.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"model":"nope/x"}' });
    expect(bad.status).toBe(422);
    expect((await t.client.getSession(s.id)).model).toBe(t.model);
    const other = t.model.replace(/[^/]+$/, 'other-model');
    await t.client.updateSession(s.id, { model: other });
    const listed = await t.client.sessionModels(s.id);
    expect(listed.current).toBe(other);
    expect(listed.models.filter((m) => m.current).map((m) => m.id)).toEqual([other]);
    await t.client.send(s.id, 'which model?');
    const events = await turnEvents(t, s.id, 0);
    expect(events.find((e) => e.type === 'model_changed')).toMatchObject({ model: other, previous: t.model });
    expect(modelRequests(t).at(-1)?.model).toBe('other-model');
  });

  it('status?wait blocks until the turn ends', async () => {
    t = await startTestTower({ script: echoScript((r) => (lastUser(r) === 'slow' ? { text: 'a b c d e', tokensPerSecond: 10 } : undefined)) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'slow');
    const res = await fetch(`${t.url}/api/sessions/${s.id}/status?wait=10s`);
    expect(await res.json()).toMatchObject({ status: 'idle', queue: { steer: 0, followup: 0 } });
    const junk = await fetch(`${t.url}/api/sessions/${s.id}/status?wait=forever`);
    expect(junk.status).toBe(400);
  });
});
