import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOLD, StubTower, textTurn, type StubEvent } from '../client/testing/stub-tower.js';
import { run } from './program.js';
import { ScriptedInput, capture, waitFor, type Captured } from './testing/capture.js';

// Output formats and cases the real server cannot set up on demand (fixed ids, events appended by hand).
// The same commands against the real HTTP app: real-tower.test.ts.
let stub: StubTower;

beforeEach(async () => {
  stub = await StubTower.start({ token: 'tok' });
});

afterEach(async () => {
  await stub.close();
});

function tower(args: string[], captured: Captured = capture()): Promise<number> {
  return run(['--url', stub.url, '--token', 'tok', ...args], captured.io);
}

function lastRequest() {
  const request = stub.requests.at(-1);
  if (!request) throw new Error('no request');
  return request;
}

const SCHEMA = { type: 'object', properties: { branch: { type: 'string' } }, required: ['branch'] };

/** A turn that asks for `call_1`, asks question `el_1`, waits for the answers, then replies. */
function askingTurn(turnId: string): StubEvent[] {
  return [
    { type: 'stream_started', turn_id: turnId, model: 'fake/model' },
    { type: 'tool_call_confirmation', tool_call_id: 'call_1', tool: 'bash', args: { command: 'git push' } },
    { type: 'elicitation_request', elicitation_id: 'el_1', message: 'Which branch?', schema: SCHEMA },
    HOLD,
    ...textTurn('Pushed.')(turnId).slice(1),
  ];
}

function holdingTurn(turnId: string): StubEvent[] {
  return [{ type: 'stream_started', turn_id: turnId, model: 'fake/model' }, HOLD, ...textTurn('Done.')(turnId).slice(1)];
}

/** A session whose turn (`script`) runs until it reaches its HOLD, then waits for `stub.release` or an interrupt. */
async function busySession(script: (turnId: string) => StubEvent[] = holdingTurn): Promise<string> {
  stub.turn = (turnId, content) => (content === 'busy' ? script(turnId) : textTurn(`re: ${content}`)(turnId));
  const { id } = stub.addSession();
  stub.startTurn(id, 'busy');
  await waitFor(() => stub.isHeld(id));
  return id;
}

describe('tower steer', () => {
  it('sends one message per argument', async () => {
    const id = await busySession();
    const c = capture();
    expect(await tower(['steer', id, 'look at the tests', 'and the docs'], c)).toBe(0);
    expect(lastRequest()).toMatchObject({
      path: `/api/sessions/${id}/steer`,
      body: { messages: [{ content: 'look at the tests' }, { content: 'and the docs' }] },
    });
    expect(c.stdout()).toBe('↪ queued 2 messages for the running turn (steer queue: 2)\n');
  });

  it('--json prints the answer', async () => {
    const id = await busySession();
    const c = capture();
    expect(await tower(['--json', 'steer', id, 'x'], c)).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual({ item_ids: [expect.any(String)], depth: 1 });
  });

});

describe('tower followup', () => {
  it('sends no key without --key and reads - from stdin', async () => {
    const id = await busySession();
    expect(await tower(['followup', id, '-'], capture({ stdin: 'from stdin\n' }))).toBe(0);
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
    expect(lastRequest().body).toEqual({ messages: [{ content: 'from stdin\n' }] });
  });
});

describe('tower interrupt, queue, status', () => {
  it('interrupt --clear-queue stops the turn and empties the queues', async () => {
    const id = await busySession();
    await tower(['followup', id, 'later']);
    const c = capture();
    expect(await tower(['interrupt', id, '--clear-queue'], c)).toBe(0);
    expect(lastRequest().body).toEqual({ clear_queue: true });
    expect(c.stdout()).toBe('interrupted turn_1; queues cleared\n');
    const idle = capture();
    expect(await tower(['--json', 'interrupt', id], idle)).toBe(0);
    expect(lastRequest().body).toEqual({});
    expect(JSON.parse(idle.stdout())).toEqual({ interrupted: false });
  });

  it('queue lists both queues', async () => {
    const id = await busySession();
    await tower(['followup', id, 'write the docs']);
    const c = capture();
    expect(await tower(['queue', id], c)).toBe(0);
    expect(c.stdout()).toMatch(/^steer {6}0\/5\nfollow-up {2}1\/20\n {2}q_\d+ {2}write the docs\n$/);
  });

  it('status --wait waits for the turn and shows what is pending', async () => {
    const id = await busySession(askingTurn);
    const c = capture();
    expect(await tower(['status', id], c)).toBe(0);
    expect(c.stdout()).toContain('status      running (turn_1)\n');
    expect(c.stdout()).toContain(`⏸ approval needed: bash git push (id call_1) — tower approve ${id} call_1\n`);
    expect(c.stdout()).toContain(`❓ question: Which branch? (id el_1) — tower answer ${id} el_1 <answer>\n`);
    // The turn ends only once the waiting status request has reached the server: an idle answer proves it waited.
    const waited = capture();
    const exit = tower(['--json', 'status', id, '--wait', '5s'], waited);
    await waitFor(() => stub.requests.some((r) => r.query.get('wait') === '5000ms'));
    stub.release(id);
    expect(await exit).toBe(0);
    expect(JSON.parse(waited.stdout())).toMatchObject({ status: 'idle', pending_confirmations: [] });
  });

  it('status refuses a bad --wait before calling the server', async () => {
    const c = capture();
    expect(await tower(['status', 'ses_1', '--wait', '2h'], c)).toBe(1);
    expect(c.stderr()).toBe('error: --wait must be a duration like 10s, 500ms or 1m, got "2h"\n');
    expect(await tower(['status', 'ses_1', '--wait', '61s'], capture())).toBe(1);
    expect(stub.requests).toHaveLength(0);
  });
});

describe('tower approve, reject, answer', () => {
  it('approve --tool sends approve_tool', async () => {
    const id = await busySession(askingTurn);
    const c = capture();
    expect(await tower(['approve', id, 'call_1', '--tool'], c)).toBe(0);
    expect(lastRequest()).toMatchObject({ path: `/api/sessions/${id}/confirmations/call_1`, body: { decision: 'approve_tool' } });
    expect(c.stdout()).toBe('✓ approved call_1 and its tool from now on\n');
  });

  it('approve --session sends approve_session; --tool and --session conflict', async () => {
    const id = await busySession(askingTurn);
    expect(await tower(['approve', id, 'call_1', '--session'])).toBe(0);
    expect(lastRequest().body).toEqual({ decision: 'approve_session' });
    const c = capture();
    expect(await tower(['approve', id, 'call_1', '--tool', '--session'], c)).toBe(1);
    expect(c.stderr()).toContain("option '--tool' cannot be used with option '--session'");
  });

  it('reject --reason sends the reason; a second answer is a conflict', async () => {
    const id = await busySession(askingTurn);
    const c = capture();
    expect(await tower(['--json', 'reject', id, 'call_1', '--reason', 'not on main'], c)).toBe(0);
    expect(lastRequest().body).toEqual({ decision: 'reject', reason: 'not on main' });
    expect(JSON.parse(c.stdout())).toEqual({ resolved: true });
    const again = capture();
    expect(await tower(['approve', id, 'call_1'], again)).toBe(1);
    expect(again.stderr()).toContain('(conflict)');
  });

  it('answer maps text onto the question\'s one field', async () => {
    const id = await busySession(askingTurn);
    const c = capture();
    expect(await tower(['answer', id, 'el_1', 'release', 'branch'], c)).toBe(0);
    expect(lastRequest()).toMatchObject({
      path: `/api/sessions/${id}/elicitations/el_1`,
      body: { action: 'accept', content: { branch: 'release branch' } },
    });
    expect(c.stdout()).toBe('answered el_1\n');
  });

  it('answer --json-content and --decline', async () => {
    const id = await busySession(askingTurn);
    expect(await tower(['answer', id, 'el_1', '--json-content', '{"branch":"main"}'])).toBe(0);
    expect(lastRequest().body).toEqual({ action: 'accept', content: { branch: 'main' } });
    const other = await busySession(askingTurn);
    const c = capture();
    expect(await tower(['answer', other, 'el_1', '--decline'], c)).toBe(0);
    expect(lastRequest().body).toEqual({ action: 'decline' });
    expect(c.stdout()).toBe('declined el_1\n');
  });

  it('answer refuses contradictory or missing input', async () => {
    const a = capture();
    expect(await tower(['answer', 'ses_1', 'el_1', '--cancel', 'but', 'text'], a)).toBe(1);
    expect(a.stderr()).toBe('error: --cancel takes no answer\n');
    const b = capture();
    expect(await tower(['answer', 'ses_1', 'el_1'], b)).toBe(1);
    expect(b.stderr()).toContain('give the answer as text or --json-content');
    const d = capture();
    expect(await tower(['answer', 'ses_1', 'el_1', '--json-content', '[1]'], d)).toBe(1);
    expect(d.stderr()).toBe('error: the answer must be a JSON object\n');
  });
});

describe('tower model', () => {
  it('lists the models with the current one starred', async () => {
    const { id } = stub.addSession({ model: 'fake/other' });
    const c = capture();
    expect(await tower(['model', id], c)).toBe(0);
    expect(c.stdout()).toBe('  fake/model\n* fake/other\n');
    const json = capture();
    expect(await tower(['--json', 'model', id], json)).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ current: 'fake/other' });
  });

});

describe('tower send --on-busy', () => {
  it('rejects an unknown mode', async () => {
    const c = capture();
    expect(await tower(['send', 'ses_1', 'x', '--on-busy', 'later'], c)).toBe(1);
    expect(c.stderr()).toContain('Allowed choices are reject, enqueue, interrupt');
  });
});

describe('prompts on a terminal', () => {
  it('attach lists and asks what was pending before it, and closes a prompt answered elsewhere', async () => {
    const id = await busySession(askingTurn);
    const input = new ScriptedInput();
    const c = capture({ terminal: input, env: { NO_COLOR: '1' } });
    const attached = tower(['attach', id], c);
    await waitFor(() => input.asking !== undefined);
    expect(c.stdout()).toContain(`⏸ approval needed: bash git push (id call_1) — tower approve ${id} call_1\n`);
    expect(c.stdout()).toContain(`❓ question: Which branch? (id el_1)`);
    // Events keep streaming while the prompt is open.
    stub.append(id, { type: 'agent_choice', content: 'meanwhile\n' });
    await waitFor(() => c.stdout().includes('meanwhile'));
    // Another client answers the approval: the prompt closes and the question is asked next.
    await tower(['approve', id, 'call_1']);
    await waitFor(() => input.asking?.includes('el_1') === true);
    expect(c.stderr()).toContain('call_1 was answered elsewhere (approve); prompt closed\n');
    input.type('/cancel');
    await waitFor(() => c.stdout().includes('Pushed.'));
    c.interrupt();
    expect(await attached).toBe(0);
    expect(stub.requests.filter((r) => r.path.includes('/elicitations/')).map((r) => r.body)).toEqual([{ action: 'cancel' }]);
  });

  it('without a terminal, attach only prints the hint lines', async () => {
    const id = await busySession(askingTurn);
    const c = capture();
    const attached = tower(['attach', id], c);
    await waitFor(() => c.stdout().includes('question'));
    c.interrupt();
    expect(await attached).toBe(0);
    expect(stub.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});
