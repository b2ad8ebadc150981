import { describe, expect, it } from 'vitest';
import type { StepPart } from '../core/models/types.js';
import { finish, usage } from '../core/testing/fakes.js';
import { toolThenText } from '../client/testing/real-tower.js';
import { ScriptedInput, capture, waitFor } from './testing/capture.js';
import { cliTower } from './testing/cli-tower.js';

// The CLI against the real HTTP app (a scripted model, an in-memory store): the commands and what they
// print, with the server's real answers.
const cli = cliTower();
const tower = cli.run;
const busySession = cli.busySession;

const posted = (pattern: RegExp) => cli.tower.requests.filter((r) => r.method === 'POST' && pattern.test(r.path)).map((r) => r.body);

const SCHEMA = { type: 'object', properties: { branch: { type: 'string' } }, required: ['branch'] };

/** Each new user message: the `echo` tool (which asks), then ask_user, then a reply. */
function pushScript(req: { messages: Array<{ role: string }> }, index: number): StepPart[] {
  const tools = req.messages.filter((m) => m.role === 'tool').length;
  if (tools === 0) return [{ type: 'tool_call', id: 'call_1', name: 'echo', args: { text: 'git push' } }, { type: 'finish', usage, finish_reason: 'tool_calls' }];
  if (tools === 1) {
    return [
      { type: 'tool_call', id: `call_q${index}`, name: 'ask_user', args: { message: 'Which branch?', schema: SCHEMA } },
      { type: 'finish', usage, finish_reason: 'tool_calls' },
    ];
  }
  return [{ type: 'text', delta: 'Pushed.\n' }, finish];
}

describe('tower send', () => {
  it('streams the reply with a tool line that summarizes the result', async () => {
    cli.tower.steps = toolThenText('echo', { text: 'hi' }, 'All done.\n');
    const c = capture({ env: { NO_COLOR: '1' } });
    const sent = tower(['send', 'new', 'say', 'hi'], c);
    await waitFor(() => c.stdout().includes('approval needed'));
    const { items } = await cli.tower.client.listSessions();
    const [session] = items;
    const callId = (await cli.tower.client.status(session?.id ?? '')).pending_confirmations[0]?.tool_call_id ?? '';
    expect(await tower(['approve', session?.id ?? '', callId], capture())).toBe(0);
    expect(await sent).toBe(0);
    // The approval line came between call and result, so the result names its tool.
    expect(c.stdout()).toContain('✓ approved echo (call_0)\n✓ echo: ran {"text":"hi"}\n');
    expect(c.stdout()).toContain('All done.\n');
    expect(posted(/\/messages$/)).toEqual([{ content: 'say hi' }]);
  });

  it('without --on-busy, a busy session is an error with a hint; with enqueue it waits its turn', async () => {
    const id = await busySession();
    const refused = capture();
    expect(await tower(['send', id, 'now'], refused)).toBe(1);
    expect(refused.stderr()).toContain('(session_busy)\nhint: a turn is running: send with --on-busy enqueue');
    const c = capture();
    const sent = tower(['send', id, 'after', 'that', '--on-busy', 'enqueue'], c);
    await waitFor(() => c.stdout().includes('queued'));
    cli.tower.release();
    expect(await sent).toBe(0);
    expect(c.stdout()).toBe('⧗ queued follow-up: after that\nhello\n');
  });
});

describe('tower steer, followup, queue, interrupt, status', () => {
  it('steer queues for the running turn; idle and full queues say what to do', async () => {
    const id = await busySession();
    const c = capture();
    expect(await tower(['steer', id, 'look at the tests', 'and the docs'], c)).toBe(0);
    expect(c.stdout()).toBe('↪ queued 2 messages for the running turn (steer queue: 2)\n');
    await tower(['steer', id, '3', '4', '5']);
    const full = capture();
    expect(await tower(['steer', id, 'one more'], full)).toBe(1);
    expect(full.stderr()).toContain('(steer_queue_full)\nhint: retry in 1 s\n');
    const { id: idle } = await cli.tower.client.createSession();
    const c2 = capture();
    expect(await tower(['steer', idle, 'x'], c2)).toBe(1);
    expect(c2.stderr()).toContain('(session_idle)\nhint: no turn is running: use `tower send` instead\n');
  });

  it('followup --key is idempotent; queue lists it; interrupt --clear-queue empties it', async () => {
    const id = await busySession();
    const c = capture();
    expect(await tower(['followup', id, 'then the docs', '--key', 'job-7'], c)).toBe(0);
    expect(c.stdout()).toBe('⧗ queued 1 follow-up; it runs after the current turn (follow-up queue: 1)\n');
    expect(cli.tower.requests.at(-1)?.headers['idempotency-key']).toBe('job-7');
    const again = capture();
    expect(await tower(['followup', id, 'then the docs', '--key', 'job-7'], again)).toBe(0);
    expect(again.stdout()).toBe('⧗ already queued under this --key; nothing added (follow-up queue: 1)\n');
    const queue = capture();
    expect(await tower(['queue', id], queue)).toBe(0);
    expect(queue.stdout()).toMatch(/^steer {6}0\/5\nfollow-up {2}1\/20\n {2}\S+ {2}then the docs\n$/);
    const stopped = capture();
    expect(await tower(['interrupt', id, '--clear-queue'], stopped)).toBe(0);
    expect(stopped.stdout()).toMatch(/^interrupted \S+; queues cleared\n$/);
    const idle = capture();
    expect(await tower(['--json', 'status', id, '--wait', '5s'], idle)).toBe(0);
    expect(JSON.parse(idle.stdout())).toMatchObject({ status: 'idle', queue: { steer: 0, followup: 0 } });
  });
});

describe('tower approve, reject, answer, model', () => {
  it('reject --reason reaches the model; a second answer is a conflict', async () => {
    cli.tower.steps = toolThenText('echo', { text: 'rm -rf build' });
    const { id } = await cli.tower.client.createSession();
    await cli.tower.client.send(id, 'clean up');
    let callId = '';
    for (let tries = 0; callId === '' && tries < 500; tries++) {
      callId = (await cli.tower.client.status(id)).pending_confirmations[0]?.tool_call_id ?? '';
    }
    const c = capture();
    expect(await tower(['--json', 'reject', id, callId, '--reason', 'not on main'], c)).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual({ resolved: true });
    const again = capture();
    expect(await tower(['approve', id, callId], again)).toBe(1);
    expect(again.stderr()).toContain('(conflict)');
    await cli.tower.client.status(id, { waitMs: 5_000 });
    const conversation = (await cli.tower.client.messages(id)).messages.map((m) => m.message);
    expect(conversation.find((m) => m.role === 'tool')).toMatchObject({ is_error: true, content: expect.stringContaining('not on main') });
  });

  it('on a terminal, send asks for the approval and the answer in place', async () => {
    cli.tower.steps = pushScript;
    const { id } = await cli.tower.client.createSession();
    const input = new ScriptedInput();
    const c = capture({ terminal: input, env: { NO_COLOR: '1' } });
    const sent = tower(['send', id, 'push it'], c);
    await waitFor(() => input.asking?.includes('call_1') === true);
    input.type('a');
    await waitFor(() => input.asking?.includes('answer') === true);
    input.type('main');
    expect(await sent).toBe(0);
    expect(c.stdout()).toContain('✓ approved echo (call_1)\n');
    expect(c.stdout()).toContain('Pushed.\n');
    expect(posted(/confirmations|elicitations/)).toEqual([{ decision: 'approve' }, { action: 'accept', content: { branch: 'main' } }]);
  });

  it('model lists, switches, and hints at the list for an unknown model', async () => {
    const { id } = await cli.tower.client.createSession();
    const c = capture();
    expect(await tower(['model', id, 'fake/other'], c)).toBe(0);
    expect(c.stdout()).toBe('model: fake/other\n');
    const list = capture();
    expect(await tower(['model', id], list)).toBe(0);
    expect(list.stdout()).toBe('  fake/m\n* fake/other\n');
    const bad = capture();
    expect(await tower(['model', id, 'nope/x'], bad)).toBe(1);
    expect(bad.stderr()).toContain('(unknown_model)\nhint: `tower model <session>` lists the models\n');
  });
});
