import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TowerClient, isQueued } from './client.js';
import { TowerApiError, parseRetryAfter } from './errors.js';
import { HOLD, StubTower, textTurn, type StubEvent } from './testing/stub-tower.js';
import type { TowerEvent } from './tower-event.js';

let stub: StubTower;
let client: TowerClient;

/** Turns whose message is "busy" run until released (or interrupted); others answer at once. */
function busyScript(turnId: string, content: string): StubEvent[] {
  if (content !== 'busy') return textTurn(`re: ${content}`)(turnId);
  return [{ type: 'stream_started', turn_id: turnId, model: 'fake/model' }, HOLD, { type: 'stream_stopped', turn_id: turnId, reason: 'normal' }];
}

beforeEach(async () => {
  stub = await StubTower.start({ token: 'secret' });
  stub.turn = busyScript;
  client = new TowerClient({ url: stub.url, token: 'secret' });
});

afterEach(async () => {
  await stub.close();
});

function lastRequest() {
  const request = stub.requests.at(-1);
  if (!request) throw new Error('no request');
  return request;
}

async function busySession(): Promise<string> {
  const { id } = stub.addSession();
  await client.send(id, 'busy');
  return id;
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
    const { id } = stub.addSession();
    const accepted = await client.send(id, 'hi');
    expect(accepted).toEqual({ seq: 1, turn_id: 'turn_1' });
    expect(lastRequest().body).toEqual({ content: 'hi' });
  });

  it('rejects while busy with session_busy (409)', async () => {
    const id = await busySession();
    const error = await caught(client.send(id, 'again', { onBusy: 'reject' }));
    expect(error).toMatchObject({ status: 409, code: 'session_busy' });
    expect(lastRequest().body).toEqual({ content: 'again', on_busy: 'reject' });
  });

  it('enqueue while busy answers a FollowupAccepted', async () => {
    const id = await busySession();
    const result = await client.send(id, 'later', { onBusy: 'enqueue' });
    expect(isQueued(result)).toBe(true);
    expect(result).toMatchObject({ status: 'queued_streaming', depth: 1 });
    expect(lastRequest().body).toEqual({ content: 'later', on_busy: 'enqueue' });
  });

  it('enqueue while idle starts a turn', async () => {
    const { id } = stub.addSession();
    const result = await client.send(id, 'now', { onBusy: 'enqueue' });
    expect(isQueued(result)).toBe(false);
    expect(result).toMatchObject({ seq: 1 });
  });

  it('interrupt stops the running turn and starts a new one', async () => {
    const id = await busySession();
    const accepted = await client.send(id, 'instead', { onBusy: 'interrupt' });
    expect(accepted.turn_id).not.toBe('turn_1');
    const events = await collect(client.events(id, { since: 0 }), (e) => e.type === 'user_message' && e.content === 'instead');
    expect(events.find((e) => e.type === 'stream_stopped')).toMatchObject({ turn_id: 'turn_1', reason: 'canceled' });
  });
});

describe('steer', () => {
  it('posts one message or several as MessagesBody', async () => {
    const id = await busySession();
    expect(await client.steer(id, 'look at the tests')).toEqual({ item_ids: [expect.any(String)], depth: 1 });
    expect(lastRequest()).toMatchObject({ method: 'POST', path: `/api/sessions/${id}/steer`, body: { messages: [{ content: 'look at the tests' }] } });
    const accepted = await client.steer(id, ['a', 'b']);
    expect(accepted.depth).toBe(3);
    expect(accepted.item_ids).toHaveLength(2);
    expect(lastRequest().body).toEqual({ messages: [{ content: 'a' }, { content: 'b' }] });
  });

  it('says session_idle when no turn runs', async () => {
    const { id } = stub.addSession();
    expect(await caught(client.steer(id, 'x'))).toMatchObject({ status: 409, code: 'session_idle', retryAfterSeconds: undefined });
  });

  it('exposes Retry-After on a full queue (429 steer_queue_full)', async () => {
    const id = await busySession();
    await client.steer(id, ['1', '2', '3', '4', '5']);
    const error = await caught(client.steer(id, 'one too many'));
    expect(error).toMatchObject({ status: 429, code: 'steer_queue_full', retryAfterSeconds: 1 });
  });
});

describe('followup', () => {
  it('sends Idempotency-Key, and a retry with the same key is a duplicate', async () => {
    const id = await busySession();
    const first = await client.followup(id, ['one', 'two'], { idempotencyKey: 'k-1' });
    expect(first).toMatchObject({ status: 'queued_streaming', depth: 2 });
    expect(first.item_ids).toHaveLength(2);
    expect(lastRequest().headers['idempotency-key']).toBe('k-1');
    expect(lastRequest().body).toEqual({ messages: [{ content: 'one' }, { content: 'two' }] });
    expect(await client.followup(id, ['one', 'two'], { idempotencyKey: 'k-1' })).toEqual({ status: 'duplicate', item_ids: [], depth: 2 });
  });

  it('sends no Idempotency-Key without one, and starts at once when idle', async () => {
    const { id } = stub.addSession();
    expect(await client.followup(id, 'go')).toMatchObject({ status: 'queued_idle' });
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
    expect(stub.isRunning(id) || (await client.messages(id)).messages.length > 0).toBe(true);
  });

  it('exposes Retry-After on a full queue (429 followup_queue_full)', async () => {
    const id = await busySession();
    await client.followup(id, Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(await caught(client.followup(id, 'more'))).toMatchObject({ status: 429, code: 'followup_queue_full', retryAfterSeconds: 1 });
  });
});

describe('queue and interrupt', () => {
  it('reads both queues', async () => {
    const id = await busySession();
    await client.followup(id, 'later');
    const state = await client.queue(id);
    expect(state.followup).toMatchObject({ depth: 1, capacity: 20, items: [{ content: 'later' }] });
    expect(state.steer).toMatchObject({ depth: 0, capacity: 5, items: [] });
  });

  it('interrupting an idle session is a no-op answer, with an empty body', async () => {
    const { id } = stub.addSession();
    expect(await client.interrupt(id)).toEqual({ interrupted: false });
    expect(lastRequest().body).toEqual({});
  });

  it('interrupts the running turn and clears the queues when asked', async () => {
    const id = await busySession();
    await client.followup(id, 'later');
    expect(await client.interrupt(id, { clearQueue: true })).toEqual({ interrupted: true, turn_id: 'turn_1' });
    expect(lastRequest().body).toEqual({ clear_queue: true });
    expect((await client.queue(id)).followup.depth).toBe(0);
    expect(stub.isRunning(id)).toBe(false);
  });
});

const BRANCH_SCHEMA = { type: 'object', properties: { branch: { type: 'string' } }, required: ['branch'] };

describe('confirmations and questions', () => {
  function askTurn(turnId: string): StubEvent[] {
    return [
      { type: 'stream_started', turn_id: turnId, model: 'fake/model' },
      { type: 'tool_call_confirmation', tool_call_id: 'call_1', tool: 'bash', args: { command: 'git push' } },
      { type: 'tool_call_confirmation', tool_call_id: 'call_2', tool: 'bash', args: { command: 'rm x' } },
      { type: 'elicitation_request', elicitation_id: 'el_1', message: 'Which branch?', schema: BRANCH_SCHEMA },
      HOLD,
      { type: 'stream_stopped', turn_id: turnId, reason: 'normal' },
    ];
  }

  async function askingSession(): Promise<string> {
    stub.turn = askTurn;
    const { id } = stub.addSession();
    await client.send(id, 'go');
    await waitUntil(async () => (await client.status(id)).pending_elicitations.length === 1);
    return id;
  }

  it('approve, approve for the tool or session, and reject send the matching decision', async () => {
    const id = await askingSession();
    expect(await client.approve(id, 'call_1', 'tool')).toEqual({ resolved: true });
    expect(lastRequest()).toMatchObject({ path: `/api/sessions/${id}/confirmations/call_1`, body: { decision: 'approve_tool' } });
    await client.reject(id, 'call_2', 'not on main');
    expect(lastRequest().body).toEqual({ decision: 'reject', reason: 'not on main' });
    await client.confirm(id, 'call_x', 'approve_session').catch(() => undefined);
    expect(lastRequest().body).toEqual({ decision: 'approve_session' });
    await client.approve(id, 'call_y').catch(() => undefined);
    expect(lastRequest().body).toEqual({ decision: 'approve' });
  });

  it('maps an unknown call to not_found (404) and a second answer to conflict (409)', async () => {
    const id = await askingSession();
    expect(await caught(client.approve(id, 'nope'))).toMatchObject({ status: 404, code: 'not_found' });
    await client.approve(id, 'call_1');
    expect(await caught(client.reject(id, 'call_1'))).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('encodes tool call ids in the path', async () => {
    const id = await askingSession();
    await client.approve(id, 'a/b').catch(() => undefined);
    expect(lastRequest().path).toBe(`/api/sessions/${id}/confirmations/a%2Fb`);
  });

  it('answers a question; content that misses the schema is invalid_request (400)', async () => {
    const id = await askingSession();
    const invalid = await caught(client.answerElicitation(id, 'el_1', 'accept', { other: 1 }));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await client.answerElicitation(id, 'el_1', 'accept', { branch: 'main' })).toEqual({ resolved: true });
    expect(lastRequest()).toMatchObject({ path: `/api/sessions/${id}/elicitations/el_1`, body: { action: 'accept', content: { branch: 'main' } } });
  });

  it('declines without content', async () => {
    const id = await askingSession();
    await client.answerElicitation(id, 'el_1', 'decline');
    expect(lastRequest().body).toEqual({ action: 'decline' });
  });

  it('status lists what is pending, and toggles auto-approve', async () => {
    const id = await askingSession();
    const status = await client.status(id);
    expect(status).toMatchObject({ status: 'running', turn_id: 'turn_1', queue: { steer: 0, followup: 0 } });
    expect(status.pending_confirmations.map((p) => p.tool_call_id)).toEqual(['call_1', 'call_2']);
    expect(await client.toggleAutoApprove(id)).toEqual({ auto_approve: true });
    expect(lastRequest()).toMatchObject({ method: 'POST', path: `/api/sessions/${id}/tools/toggle` });
  });
});

describe('model, title, star, status', () => {
  it('setModel patches the session; an unknown model is unknown_model (422)', async () => {
    const { id } = stub.addSession();
    expect((await client.setModel(id, 'fake/other')).model).toBe('fake/other');
    expect(lastRequest()).toMatchObject({ method: 'PATCH', path: `/api/sessions/${id}`, body: { model: 'fake/other' } });
    expect(await caught(client.setModel(id, 'nope/model'))).toMatchObject({ status: 422, code: 'unknown_model' });
    const events = await collect(client.events(id, { since: 0 }), (e) => e.type === 'model_changed');
    expect(events.at(-1)).toMatchObject({ type: 'model_changed', model: 'fake/other', previous: 'fake/model' });
  });

  it('sessionModels marks the current model', async () => {
    const { id } = stub.addSession({ model: 'fake/other' });
    const listed = await client.sessionModels(id);
    expect(listed.current).toBe('fake/other');
    expect(listed.models.filter((m) => m.current).map((m) => m.id)).toEqual(['fake/other']);
  });

  it('rename and star use their own routes', async () => {
    const { id } = stub.addSession();
    expect((await client.rename(id, 'New name')).title).toBe('New name');
    expect(lastRequest()).toMatchObject({ method: 'PATCH', path: `/api/sessions/${id}/title`, body: { title: 'New name' } });
    expect((await client.star(id)).starred).toBe(true);
    expect(lastRequest()).toMatchObject({ path: `/api/sessions/${id}/starred`, body: { starred: true } });
    expect((await client.star(id, false)).starred).toBe(false);
  });

  it('status with waitMs sends ?wait and blocks until the turn ends', async () => {
    const id = await busySession();
    const pending = client.status(id, { waitMs: 5_000 });
    // The turn ends only once the request is at the server: an idle answer proves the request waited.
    await waitUntil(async () => stub.requests.some((r) => r.query.get('wait') === '5000ms'));
    stub.release(id);
    expect((await pending).status).toBe('idle');
  });

  it('status without waitMs sends no wait', async () => {
    const { id } = stub.addSession();
    expect(await client.status(id)).toMatchObject({ session_id: id, status: 'idle', pending_confirmations: [] });
    expect(lastRequest().query.has('wait')).toBe(false);
  });
});

describe('sendAndFollow with onBusy enqueue', () => {
  it('yields the queued message, then only the turn it opens', async () => {
    const id = await busySession();
    const events: TowerEvent[] = [];
    const following = (async () => {
      for await (const event of client.sendAndFollow(id, 'queued one', { onBusy: 'enqueue' })) events.push(event);
    })();
    await waitUntil(async () => events.length > 0);
    stub.release(id);
    await following;
    expect(events.map((e) => e.type)).toEqual(['message_queued', 'user_message', 'stream_started', 'agent_choice', 'agent_choice', 'stream_stopped']);
    const [queued, opened] = events;
    expect(opened).toMatchObject({ content: 'queued one', queue_item_id: queued?.type === 'message_queued' ? queued.item_id : '' });
    expect(events.at(-1)).toMatchObject({ reason: 'normal' });
    expect(events.at(-1)).not.toMatchObject({ turn_id: 'turn_1' });
  });

  it('ends with queue_cleared when the message is dropped', async () => {
    const id = await busySession();
    const events: TowerEvent[] = [];
    const following = (async () => {
      for await (const event of client.sendAndFollow(id, 'dropped', { onBusy: 'enqueue' })) events.push(event);
    })();
    await waitUntil(async () => events.length > 0);
    await client.interrupt(id, { clearQueue: true });
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

  it('comes from the header on any error status', async () => {
    stub.intercept = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ code: 'internal', message: 'restarting' }));
      return true;
    };
    expect(await caught(client.health())).toMatchObject({ status: 503, retryAfterSeconds: 7 });
  });
});

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 10) {
    if (waited > 5_000) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function collect(iterable: AsyncIterable<TowerEvent>, until: (event: TowerEvent) => boolean): Promise<TowerEvent[]> {
  const out: TowerEvent[] = [];
  for await (const event of iterable) {
    out.push(event);
    if (until(event)) break;
  }
  return out;
}
