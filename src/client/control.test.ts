import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finish, usage } from '../core/testing/fakes.js';
import type { StepPart } from '../core/models/types.js';
import { isQueued } from './client.js';
import { TowerApiError, parseRetryAfter } from './errors.js';
import { startRealTower, type RealTower } from './testing/real-tower.js';
import { collect, until } from './testing/waiting.js';
import type { TowerEvent } from './tower-event.js';

// The SDK's control calls against the real HTTP app (a scripted model, an in-memory store).
let t: RealTower;

beforeEach(async () => {
  t = await startRealTower({ token: 'secret', permissions: { ask: ['echo'] } });
});

afterEach(async () => {
  await t.close();
});

function lastRequest() {
  const request = t.requests.at(-1);
  if (!request) throw new Error('no request');
  return request;
}

/** A session whose turn is running: its model step waits until `t.release()`. */
async function busySession(): Promise<{ id: string; turnId: string }> {
  const { id } = await t.client.createSession();
  t.hold();
  const { turn_id } = await t.client.send(id, 'busy');
  return { id, turnId: turn_id };
}

async function caught(promise: Promise<unknown>): Promise<TowerApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TowerApiError)) throw new Error(`expected a TowerApiError, got ${String(error)}`);
  return error;
}

describe('send with onBusy', () => {
  it('keeps the old call shape: body {content}, a started turn', async () => {
    const { id } = await t.client.createSession();
    const accepted = await t.client.send(id, 'hi');
    expect(accepted).toEqual({ seq: 2, turn_id: expect.any(String) });
    expect(lastRequest().body).toEqual({ content: 'hi' });
  });

  it('rejects while busy with session_busy (409)', async () => {
    const { id } = await busySession();
    const error = await caught(t.client.send(id, 'again', { onBusy: 'reject' }));
    expect(error).toMatchObject({ status: 409, code: 'session_busy' });
    expect(lastRequest().body).toEqual({ content: 'again', on_busy: 'reject' });
  });

  it('enqueue while busy answers a FollowupAccepted; while idle it starts a turn', async () => {
    const { id } = await busySession();
    const result = await t.client.send(id, 'later', { onBusy: 'enqueue' });
    expect(isQueued(result)).toBe(true);
    expect(result).toMatchObject({ status: 'queued_streaming', depth: 1 });
    expect(lastRequest().body).toEqual({ content: 'later', on_busy: 'enqueue' });
    const idle = await t.client.createSession();
    t.release();
    const now = await t.client.send(idle.id, 'now', { onBusy: 'enqueue' });
    expect(isQueued(now)).toBe(false);
  });

  it('interrupt stops the running turn and starts a new one', async () => {
    const { id, turnId } = await busySession();
    const accepted = await t.client.send(id, 'instead', { onBusy: 'interrupt' });
    expect(accepted.turn_id).not.toBe(turnId);
    const events = await collect(t.client.events(id, { since: 0 }), (e) => e.type === 'user_message' && e.content === 'instead');
    expect(events.find((e) => e.type === 'stream_stopped')).toMatchObject({ turn_id: turnId, reason: 'canceled' });
  });
});

describe('steer and followup', () => {
  it('steer posts one message or several as MessagesBody', async () => {
    const { id } = await busySession();
    expect(await t.client.steer(id, 'look at the tests')).toEqual({ item_ids: [expect.any(String)], depth: 1 });
    expect(lastRequest()).toMatchObject({ method: 'POST', path: `/api/sessions/${id}/steer`, body: { messages: [{ content: 'look at the tests' }] } });
    const accepted = await t.client.steer(id, ['a', 'b']);
    expect(accepted.depth).toBe(3);
    expect(accepted.item_ids).toHaveLength(2);
  });

  it('steer says session_idle when no turn runs', async () => {
    const { id } = await t.client.createSession();
    expect(await caught(t.client.steer(id, 'x'))).toMatchObject({ status: 409, code: 'session_idle', retryAfterSeconds: undefined });
  });

  it('exposes Retry-After on full queues (429 steer_queue_full, followup_queue_full)', async () => {
    const { id } = await busySession();
    await t.client.steer(id, ['1', '2', '3', '4', '5']);
    expect(await caught(t.client.steer(id, 'one too many'))).toMatchObject({ status: 429, code: 'steer_queue_full', retryAfterSeconds: 1 });
    await t.client.followup(id, Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(await caught(t.client.followup(id, 'more'))).toMatchObject({ status: 429, code: 'followup_queue_full', retryAfterSeconds: 1 });
  });

  it('followup sends Idempotency-Key, and a retry with the same key is a duplicate', async () => {
    const { id } = await busySession();
    const first = await t.client.followup(id, ['one', 'two'], { idempotencyKey: 'k-1' });
    expect(first).toMatchObject({ status: 'queued_streaming', depth: 2 });
    expect(first.item_ids).toHaveLength(2);
    expect(lastRequest().headers['idempotency-key']).toBe('k-1');
    expect(await t.client.followup(id, ['one', 'two'], { idempotencyKey: 'k-1' })).toEqual({ status: 'duplicate', item_ids: [], depth: 2 });
  });

  it('followup without a key sends none, and starts at once when idle', async () => {
    const { id } = await t.client.createSession();
    expect(await t.client.followup(id, 'go')).toMatchObject({ status: 'queued_idle' });
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
  });
});

describe('queue and interrupt', () => {
  it('reads both queues', async () => {
    const { id } = await busySession();
    await t.client.followup(id, 'later');
    const state = await t.client.queue(id);
    expect(state.followup).toMatchObject({ depth: 1, capacity: 20, items: [{ content: 'later' }] });
    expect(state.steer).toMatchObject({ depth: 0, capacity: 5, items: [] });
  });

  it('interrupting an idle session is a no-op answer', async () => {
    const { id } = await t.client.createSession();
    expect(await t.client.interrupt(id)).toEqual({ interrupted: false });
  });

  it('interrupts the running turn and clears the queues when asked', async () => {
    const { id, turnId } = await busySession();
    await t.client.followup(id, 'later');
    expect(await t.client.interrupt(id, { clearQueue: true })).toEqual({ interrupted: true, turn_id: turnId });
    expect(lastRequest().body).toEqual({ clear_queue: true });
    expect((await t.client.queue(id)).followup.depth).toBe(0);
    expect((await t.client.status(id, { waitMs: 5_000 })).status).toBe('idle');
  });
});

const BRANCH_SCHEMA = { type: 'object', properties: { branch: { type: 'string' } }, required: ['branch'] };

describe('confirmations and questions', () => {
  /** A turn whose first step calls the `echo` tool twice; the session asks before each call. */
  async function confirmingSession(): Promise<string> {
    t.steps = (req) =>
      req.messages.at(-1)?.role === 'tool'
        ? [{ type: 'text', delta: 'done' }, finish]
        : [
            { type: 'tool_call', id: 'call_1', name: 'echo', args: { text: 'one' } },
            { type: 'tool_call', id: 'call_2', name: 'echo', args: { text: 'two' } },
            { type: 'finish', usage, finish_reason: 'tool_calls' },
          ];
    const { id } = await t.client.createSession();
    await t.client.send(id, 'go');
    await until(async () => (await t.client.status(id)).pending_confirmations.length === 2);
    return id;
  }

  async function askingSession(): Promise<string> {
    t.steps = (req): StepPart[] =>
      req.messages.at(-1)?.role === 'tool'
        ? [{ type: 'text', delta: 'thanks' }, finish]
        : [
            { type: 'tool_call', id: 'call_q', name: 'ask_user', args: { message: 'Which branch?', schema: BRANCH_SCHEMA } },
            { type: 'finish', usage, finish_reason: 'tool_calls' },
          ];
    const { id } = await t.client.createSession();
    await t.client.send(id, 'go');
    await until(async () => (await t.client.status(id)).pending_elicitations.length === 1);
    return id;
  }

  it('approve for the tool and reject with a reason send the matching decisions', async () => {
    const id = await confirmingSession();
    expect(await t.client.approve(id, 'call_1', 'tool')).toEqual({ resolved: true });
    expect(lastRequest()).toMatchObject({ path: `/api/sessions/${id}/confirmations/call_1`, body: { decision: 'approve_tool' } });
    // approve_tool covered call_2 as well: answering it now is a conflict.
    expect(await caught(t.client.reject(id, 'call_2', 'not on main'))).toMatchObject({ status: 409, code: 'conflict' });
    expect(lastRequest().body).toEqual({ decision: 'reject', reason: 'not on main' });
  });

  it('rejects one call with its reason, and the model reads it', async () => {
    const id = await confirmingSession();
    await t.client.reject(id, 'call_1', 'not on main');
    await t.client.approve(id, 'call_2');
    expect(lastRequest().body).toEqual({ decision: 'approve' });
    const events = await collect(t.client.events(id, { since: 0 }), (e) => e.type === 'stream_stopped');
    const results = events.flatMap((e) => (e.type === 'tool_call_response' ? [[e.tool_call_id, e.is_error, e.result]] : []));
    expect(results).toEqual([
      ['call_1', true, expect.stringContaining('not on main')],
      ['call_2', false, 'ran {"text":"two"}'],
    ]);
  });

  it('maps an unknown call to not_found (404) and a second answer to conflict (409)', async () => {
    const id = await confirmingSession();
    expect(await caught(t.client.approve(id, 'nope'))).toMatchObject({ status: 404, code: 'not_found' });
    await t.client.approve(id, 'call_1');
    expect(await caught(t.client.reject(id, 'call_1'))).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('encodes tool call ids in the path', async () => {
    const id = await confirmingSession();
    expect(await caught(t.client.approve(id, 'a/b'))).toMatchObject({ status: 404 });
    expect(lastRequest().path).toBe(`/api/sessions/${id}/confirmations/a%2Fb`);
  });

  it('answers a question; content that misses the schema is invalid_request (400)', async () => {
    const id = await askingSession();
    const [question] = (await t.client.status(id)).pending_elicitations;
    const elId = question?.elicitation_id ?? '';
    expect(await caught(t.client.answerElicitation(id, elId, 'accept', { other: 1 }))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await t.client.answerElicitation(id, elId, 'accept', { branch: 'main' })).toEqual({ resolved: true });
    expect(lastRequest()).toMatchObject({ body: { action: 'accept', content: { branch: 'main' } } });
  });

  it('declines without content', async () => {
    const id = await askingSession();
    const elId = (await t.client.status(id)).pending_elicitations[0]?.elicitation_id ?? '';
    await t.client.answerElicitation(id, elId, 'decline');
    expect(lastRequest().body).toEqual({ action: 'decline' });
  });

  it('status lists what is pending, and toggles auto-approve', async () => {
    const id = await confirmingSession();
    const status = await t.client.status(id);
    expect(status).toMatchObject({ status: 'running', queue: { steer: 0, followup: 0 } });
    expect(status.pending_confirmations.map((p) => p.tool_call_id)).toEqual(['call_1', 'call_2']);
    expect(await t.client.toggleAutoApprove(id)).toEqual({ auto_approve: true });
    expect(lastRequest()).toMatchObject({ method: 'POST', path: `/api/sessions/${id}/tools/toggle` });
  });
});

describe('model, title, star, status', () => {
  it('setModel patches the session; an unknown model is unknown_model', async () => {
    const { id } = await t.client.createSession();
    expect((await t.client.setModel(id, 'fake/other')).model).toBe('fake/other');
    expect(await caught(t.client.setModel(id, 'nope/nope'))).toMatchObject({ code: 'unknown_model' });
    const listed = await t.client.sessionModels(id);
    expect(listed.models.filter((m) => m.current).map((m) => m.id)).toEqual(['fake/other']);
  });

  it('rename and star use their own routes', async () => {
    const { id } = await t.client.createSession();
    expect((await t.client.rename(id, 'New name')).title).toBe('New name');
    expect(lastRequest()).toMatchObject({ method: 'PATCH', path: `/api/sessions/${id}/title`, body: { title: 'New name' } });
    expect((await t.client.star(id)).starred).toBe(true);
    expect((await t.client.star(id, false)).starred).toBe(false);
  });

  it('status with waitMs sends ?wait and blocks until the turn ends', async () => {
    const { id } = await busySession();
    const pending = t.client.status(id, { waitMs: 5_000 });
    // The turn ends only once the request is sent: an idle answer proves it waited.
    await until(async () => t.requests.some((r) => r.query.get('wait') === '5000ms'));
    t.release();
    expect((await pending).status).toBe('idle');
  });

  it('status without waitMs sends no wait', async () => {
    const { id } = await t.client.createSession();
    expect(await t.client.status(id)).toMatchObject({ session_id: id, status: 'idle', pending_confirmations: [] });
    expect(lastRequest().query.has('wait')).toBe(false);
  });
});

describe('sendAndFollow with onBusy enqueue', () => {
  it('yields the queued message, then only the turn it opens', async () => {
    const { id, turnId } = await busySession();
    const events: TowerEvent[] = [];
    const following = (async () => {
      for await (const event of t.client.sendAndFollow(id, 'queued one', { onBusy: 'enqueue' })) events.push(event);
    })();
    await until(async () => events.length > 0);
    t.release();
    await following;
    expect(events.map((e) => e.type)).toEqual(['message_queued', 'user_message', 'stream_started', 'agent_choice', 'token_usage', 'stream_stopped']);
    const [queued, opened] = events;
    expect(opened).toMatchObject({ content: 'queued one', queue_item_id: queued?.type === 'message_queued' ? queued.item_id : '' });
    expect(events.at(-1)).toMatchObject({ reason: 'normal' });
    expect(events.at(-1)).not.toMatchObject({ turn_id: turnId });
  });

  it('ends with queue_cleared when the message is dropped', async () => {
    const { id } = await busySession();
    const events: TowerEvent[] = [];
    const following = (async () => {
      for await (const event of t.client.sendAndFollow(id, 'dropped', { onBusy: 'enqueue' })) events.push(event);
    })();
    await until(async () => events.length > 0);
    await t.client.interrupt(id, { clearQueue: true });
    await following;
    expect(events.map((e) => e.type)).toEqual(['message_queued', 'queue_cleared']);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('1', now)).toBe(1);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
