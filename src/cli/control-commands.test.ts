import { describe, expect, it } from 'vitest';
import { until } from '../client/testing/waiting.js';
import type { StepPart } from '../core/models/types.js';
import { finish, usage } from '../core/testing/fakes.js';
import { ScriptedInput, capture, waitFor } from './testing/capture.js';
import { cliTower } from './testing/cli-tower.js';

// The control commands and what they print, against the real HTTP app (a scripted model whose `echo`
// calls ask for approval). More of them: real-tower.test.ts.
const cli = cliTower();
const tower = cli.run;
const busySession = cli.busySession;

function lastRequest() {
  const request = cli.tower.requests.at(-1);
  if (!request) throw new Error('no request');
  return request;
}

const SCHEMA = { type: 'object', properties: { branch: { type: 'string' } }, required: ['branch'] };

/** A turn that asks to run `echo git push` as call_1, then asks "Which branch?", then says "Pushed.". */
async function askingSession(): Promise<string> {
  cli.tower.steps = (req): StepPart[] => {
    const results = req.messages.filter((m) => m.role === 'tool').length;
    if (results === 0) return [{ type: 'tool_call', id: 'call_1', name: 'echo', args: { text: 'git push' } }, { type: 'finish', usage, finish_reason: 'tool_calls' }];
    if (results === 1) {
      return [
        { type: 'tool_call', id: 'call_q', name: 'ask_user', args: { message: 'Which branch?', schema: SCHEMA } },
        { type: 'finish', usage, finish_reason: 'tool_calls' },
      ];
    }
    return [{ type: 'text', delta: 'Pushed.\n' }, finish];
  };
  const { id } = await cli.tower.client.createSession();
  await cli.tower.client.send(id, 'push it');
  await until(async () => (await cli.tower.client.status(id)).pending_confirmations.length === 1);
  return id;
}

/** Approves call_1 of an asking session and resolves with the id of the question that follows. */
async function toTheQuestion(id: string): Promise<string> {
  await cli.tower.client.approve(id, 'call_1');
  let question = '';
  await until(async () => {
    question = (await cli.tower.client.status(id)).pending_elicitations[0]?.elicitation_id ?? '';
    return question !== '';
  });
  return question;
}

describe('tower steer and followup', () => {
  it('steer sends one message per argument', async () => {
    const id = await busySession();
    const c = capture();
    expect(await tower(['steer', id, 'look at the tests', 'and the docs'], c)).toBe(0);
    expect(lastRequest()).toMatchObject({
      path: `/api/sessions/${id}/steer`,
      body: { messages: [{ content: 'look at the tests' }, { content: 'and the docs' }] },
    });
    expect(c.stdout()).toBe('↪ queued 2 messages for the running turn (steer queue: 2)\n');
  });

  it('steer --json prints the answer', async () => {
    const id = await busySession();
    const c = capture();
    expect(await tower(['--json', 'steer', id, 'x'], c)).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual({ item_ids: [expect.any(String)], depth: 1 });
  });

  it('followup sends no key without --key and reads - from stdin', async () => {
    const id = await busySession();
    expect(await tower(['followup', id, '-'], capture({ stdin: 'from stdin\n' }))).toBe(0);
    expect(lastRequest().headers['idempotency-key']).toBeUndefined();
    expect(lastRequest().body).toEqual({ messages: [{ content: 'from stdin\n' }] });
  });
});

describe('tower interrupt, status', () => {
  it('interrupt on an idle session says so', async () => {
    const { id } = await cli.tower.client.createSession();
    const idle = capture();
    expect(await tower(['--json', 'interrupt', id], idle)).toBe(0);
    expect(lastRequest().body).toEqual({});
    expect(JSON.parse(idle.stdout())).toEqual({ interrupted: false });
  });

  it('status shows what is pending, with the command that answers it', async () => {
    const id = await askingSession();
    const c = capture();
    expect(await tower(['status', id], c)).toBe(0);
    expect(c.stdout()).toMatch(/status {6}running \(\S+\)\n/);
    expect(c.stdout()).toContain(`⏸ approval needed: echo git push (id call_1) — tower approve ${id} call_1\n`);
    const question = await toTheQuestion(id);
    const asked = capture();
    expect(await tower(['status', id], asked)).toBe(0);
    expect(asked.stdout()).toContain(`❓ question: Which branch? (id ${question}) — tower answer ${id} ${question} <answer>\n`);
  });

  it('status --wait waits for the turn', async () => {
    const id = await busySession();
    // The turn ends only once the waiting status request has reached the server: an idle answer proves it waited.
    const waited = capture();
    const exit = tower(['--json', 'status', id, '--wait', '5s'], waited);
    await until(async () => cli.tower.requests.some((r) => r.query.get('wait') === '5000ms'));
    cli.tower.release();
    expect(await exit).toBe(0);
    expect(JSON.parse(waited.stdout())).toMatchObject({ status: 'idle', pending_confirmations: [] });
  });

  it('status refuses a bad --wait before calling the server', async () => {
    const c = capture();
    expect(await tower(['status', 'ses_1', '--wait', '2h'], c)).toBe(1);
    expect(c.stderr()).toBe('error: --wait must be a duration like 10s, 500ms or 1m, got "2h"\n');
    expect(await tower(['status', 'ses_1', '--wait', '61s'], capture())).toBe(1);
    expect(cli.tower.requests).toHaveLength(0);
  });
});

describe('tower approve, reject, answer', () => {
  it('approve --tool sends approve_tool', async () => {
    const id = await askingSession();
    const c = capture();
    expect(await tower(['approve', id, 'call_1', '--tool'], c)).toBe(0);
    expect(lastRequest()).toMatchObject({ path: `/api/sessions/${id}/confirmations/call_1`, body: { decision: 'approve_tool' } });
    expect(c.stdout()).toBe('✓ approved call_1 and its tool from now on\n');
  });

  it('approve --session sends approve_session; --tool and --session conflict', async () => {
    const id = await askingSession();
    expect(await tower(['approve', id, 'call_1', '--session'])).toBe(0);
    expect(lastRequest().body).toEqual({ decision: 'approve_session' });
    const c = capture();
    expect(await tower(['approve', id, 'call_1', '--tool', '--session'], c)).toBe(1);
    expect(c.stderr()).toContain("option '--tool' cannot be used with option '--session'");
  });

  it("answer maps text onto the question's one field", async () => {
    const id = await askingSession();
    const question = await toTheQuestion(id);
    const c = capture();
    expect(await tower(['answer', id, question, 'release', 'branch'], c)).toBe(0);
    expect(lastRequest()).toMatchObject({
      path: `/api/sessions/${id}/elicitations/${question}`,
      body: { action: 'accept', content: { branch: 'release branch' } },
    });
    expect(c.stdout()).toBe(`answered ${question}\n`);
  });

  it('answer --json-content and --decline', async () => {
    const id = await askingSession();
    const question = await toTheQuestion(id);
    expect(await tower(['answer', id, question, '--json-content', '{"branch":"main"}'])).toBe(0);
    expect(lastRequest().body).toEqual({ action: 'accept', content: { branch: 'main' } });
    const other = await askingSession();
    const second = await toTheQuestion(other);
    const c = capture();
    expect(await tower(['answer', other, second, '--decline'], c)).toBe(0);
    expect(lastRequest().body).toEqual({ action: 'decline' });
    expect(c.stdout()).toBe(`declined ${second}\n`);
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

describe('tower model and send --on-busy', () => {
  it('model --json names the current one', async () => {
    const { id } = await cli.tower.client.createSession({ model: 'fake/other' });
    const json = capture();
    expect(await tower(['--json', 'model', id], json)).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ current: 'fake/other' });
  });

  it('send rejects an unknown --on-busy mode', async () => {
    const c = capture();
    expect(await tower(['send', 'ses_1', 'x', '--on-busy', 'later'], c)).toBe(1);
    expect(c.stderr()).toContain('Allowed choices are reject, enqueue, interrupt');
  });
});

describe('prompts on a terminal', () => {
  it('attach asks what was pending before it, and closes a prompt answered elsewhere', async () => {
    const id = await askingSession();
    const input = new ScriptedInput();
    const c = capture({ terminal: input, env: { NO_COLOR: '1' } });
    const attached = tower(['attach', id], c);
    await waitFor(() => input.asking !== undefined);
    expect(c.stdout()).toContain(`⏸ approval needed: echo git push (id call_1) — tower approve ${id} call_1\n`);
    // Another client answers the approval: the prompt closes and the question that follows is asked.
    await tower(['approve', id, 'call_1']);
    await waitFor(() => input.asking?.includes('el_') === true);
    expect(c.stderr()).toContain('call_1 was answered elsewhere (approve); prompt closed\n');
    input.type('/cancel');
    await waitFor(() => c.stdout().includes('Pushed.'));
    c.interrupt();
    expect(await attached).toBe(0);
    expect(cli.tower.requests.filter((r) => r.path.includes('/elicitations/')).map((r) => r.body)).toEqual([{ action: 'cancel' }]);
  });

  it('without a terminal, attach only prints the hint lines', async () => {
    const id = await askingSession();
    const c = capture();
    const attached = tower(['attach', id], c);
    await waitFor(() => c.stdout().includes('approval needed'));
    c.interrupt();
    expect(await attached).toBe(0);
    expect(cli.tower.requests.filter((r) => r.method === 'POST' && !r.path.endsWith('/messages') && r.path !== '/api/sessions')).toHaveLength(0);
  });
});
