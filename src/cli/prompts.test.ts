import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TowerClient, TowerEvent } from '../client/index.js';
import { startRealTower, type RealTower } from '../client/testing/real-tower.js';
import { until } from '../client/testing/waiting.js';
import type { StepPart } from '../core/models/types.js';
import { finish, usage } from '../core/testing/fakes.js';
import { createColors } from './color.js';
import { ControlPrompts, parseDecision, parseQuestionAnswer } from './prompts.js';
import { ScriptedInput, waitFor } from './testing/capture.js';

// The prompts answer a real HTTP app: its confirmations and questions are the server's own. The events
// the prompts see are handed over by the test, to control their order.
let t: RealTower;
let client: TowerClient;
let sessionId: string;
let input: ScriptedInput;
let notes: string[];
let prompts: ControlPrompts;

const SCHEMA = { type: 'object', properties: { branch: { type: 'string' } }, required: ['branch'] };

async function pendingCount(kind: 'pending_confirmations' | 'pending_elicitations'): Promise<number> {
  return (await client.status(sessionId))[kind].length;
}

/** Starts a turn whose model calls `echo` once per id (each call waits for an approval). */
async function startAsking(...ids: string[]): Promise<void> {
  t.steps = (req): StepPart[] =>
    req.messages.at(-1)?.role === 'tool'
      ? [{ type: 'text', delta: 'done' }, finish]
      : [...ids.map((id): StepPart => ({ type: 'tool_call', id, name: 'echo', args: { text: id } })), { type: 'finish', usage, finish_reason: 'tool_calls' }];
  await client.send(sessionId, 'go');
  await until(async () => (await pendingCount('pending_confirmations')) === ids.length);
}

/** Starts a turn whose model asks `count` questions one after another; resolves with the first one's id. */
async function startQuestions(count: number, schema?: Record<string, unknown>): Promise<string> {
  t.steps = (req): StepPart[] => {
    const asked = req.messages.filter((m) => m.role === 'tool').length;
    if (asked >= count) return [{ type: 'text', delta: 'thanks' }, finish];
    const args = { message: 'Which branch?', ...(schema ? { schema } : {}) };
    return [{ type: 'tool_call', id: `q${asked}`, name: 'ask_user', args }, { type: 'finish', usage, finish_reason: 'tool_calls' }];
  };
  await client.send(sessionId, 'go');
  return nextQuestion();
}

/** The id of the question the session waits on (once it waits on one not answered yet). */
async function nextQuestion(after?: string): Promise<string> {
  let id = '';
  await until(async () => {
    id = (await client.status(sessionId)).pending_elicitations[0]?.elicitation_id ?? '';
    return id !== '' && id !== after;
  });
  return id;
}

let seq = 100;
function ev(fields: Record<string, unknown> & { type: string }): TowerEvent {
  return { ...fields, seq: ++seq, session_id: sessionId, timestamp: '2025-01-01T00:00:00.000Z' } as TowerEvent;
}

const confirmation = (id: string, tool = 'bash') => ({ type: 'tool_call_confirmation', tool_call_id: id, tool, args: { command: 'git push' } });
const question = (id: string, schema?: Record<string, unknown>) => ({
  type: 'elicitation_request',
  elicitation_id: id,
  message: 'Which branch?',
  ...(schema ? { schema } : {}),
});

function answerPosts() {
  return t.requests
    .filter((r) => r.method === 'POST' && /\/(confirmations|elicitations)\//.test(r.path))
    .map((r) => ({ path: r.path.replace(`/api/sessions/${sessionId}`, ''), body: r.body }));
}

beforeEach(async () => {
  t = await startRealTower({ permissions: { ask: ['echo'] } });
  client = t.client;
  sessionId = (await client.createSession()).id;
  input = new ScriptedInput();
  notes = [];
  prompts = new ControlPrompts({ client, sessionId, input, colors: createColors(false), note: (text) => notes.push(text) });
});

afterEach(async () => {
  await prompts.close();
  await t.close();
});

describe('ControlPrompts: approvals', () => {
  it.each([
    ['a', { decision: 'approve' }],
    ['t', { decision: 'approve_tool' }],
    ['session', { decision: 'approve_session' }],
    ['r not on main', { decision: 'reject', reason: 'not on main' }],
    ['n too risky', { decision: 'reject', reason: 'too risky' }],
  ])('%s → POST %j', async (typed, body) => {
    await startAsking('call_1');
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    expect(input.asking).toBe('⏸ bash call_1: [a]pprove / approve [t]ool / approve [s]ession / [r]eject / [i]gnore > ');
    input.type(typed);
    await waitFor(() => answerPosts().length === 1);
    expect(answerPosts()).toEqual([{ path: '/confirmations/call_1', body }]);
  });

  it('asks for the reason after a bare r, on a prompt of its own', async () => {
    await startAsking('call_1');
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    input.type('r');
    await waitFor(() => input.prompts.length === 2);
    expect(input.asking).toBe('reject call_1: reason (Enter for none) > ');
    expect(answerPosts()).toEqual([]);
    input.type('  not on a Friday ');
    await waitFor(() => answerPosts().length === 1);
    expect(answerPosts()).toEqual([{ path: '/confirmations/call_1', body: { decision: 'reject', reason: 'not on a Friday' } }]);
  });

  it('rejects without a reason when the reason prompt gets an empty line', async () => {
    await startAsking('call_1');
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    input.type('no');
    await waitFor(() => input.prompts.length === 2);
    input.type('');
    await waitFor(() => answerPosts().length === 1);
    expect(answerPosts()).toEqual([{ path: '/confirmations/call_1', body: { decision: 'reject' } }]);
  });

  it('closes the reason prompt too when the call is answered elsewhere meanwhile', async () => {
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    input.type('r');
    await waitFor(() => input.prompts.length === 2);
    prompts.handle(ev({ type: 'tool_call_confirmed', tool_call_id: 'call_1', decision: 'approve' }));
    await waitFor(() => notes.length === 1);
    expect(notes).toEqual(['call_1 was answered elsewhere (approve); prompt closed']);
    expect(answerPosts()).toEqual([]);
  });

  it('does not block: handle returns at once and later events are taken while a prompt is open', async () => {
    await startAsking('call_1', 'call_2');
    prompts.handle(ev(confirmation('call_1')));
    prompts.handle(ev({ type: 'agent_choice', content: 'still streaming' }));
    prompts.handle(ev(confirmation('call_2')));
    await waitFor(() => input.asking !== undefined);
    expect(input.prompts).toHaveLength(1);
    input.type('a');
    // One at a time, in arrival order.
    await waitFor(() => input.prompts.length === 2);
    expect(input.asking).toContain('call_2');
    input.type('r');
    await waitFor(() => input.prompts.length === 3);
    input.type('');
    await waitFor(() => answerPosts().length === 2);
    expect(answerPosts().map((p) => p.path)).toEqual(['/confirmations/call_1', '/confirmations/call_2']);
  });

  it('asks again after a reply it does not understand; i leaves the request unanswered', async () => {
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    input.type('maybe');
    await waitFor(() => input.prompts.length === 2);
    expect(notes).toEqual(['type a, t, s, r (optionally followed by a reason) or i']);
    input.type('i');
    await waitFor(() => notes.length === 2);
    expect(notes[1]).toBe('call_1 left unanswered');
    expect(answerPosts()).toEqual([]);
  });

  it('closes the prompt when tool_call_confirmed arrives from another client, and says so', async () => {
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    prompts.handle(ev({ type: 'tool_call_confirmed', tool_call_id: 'call_1', decision: 'approve' }));
    await waitFor(() => notes.length === 1);
    expect(input.aborted).toHaveLength(1);
    expect(input.asking).toBeUndefined();
    expect(notes).toEqual(['call_1 was answered elsewhere (approve); prompt closed']);
    expect(answerPosts()).toEqual([]);
  });

  it('names an approval that covered the call', async () => {
    prompts.handle(ev(confirmation('call_2')));
    await waitFor(() => input.asking !== undefined);
    prompts.handle(ev({ type: 'tool_call_confirmed', tool_call_id: 'call_2', decision: 'approve', reason: 'covered by approve_tool' }));
    await waitFor(() => notes.length === 1);
    expect(notes).toEqual(['call_2 was approved (covered by approve_tool); prompt closed']);
  });

  it('drops a waiting request answered elsewhere before it was asked', async () => {
    prompts.handle(ev(confirmation('call_1')));
    prompts.handle(ev(confirmation('call_2')));
    await waitFor(() => input.asking !== undefined);
    prompts.handle(ev({ type: 'tool_call_confirmed', tool_call_id: 'call_2', decision: 'approve', reason: 'covered by approve_tool' }));
    input.type('i');
    await prompts.close();
    expect(input.prompts).toHaveLength(1);
    expect(notes).toEqual(['call_1 left unanswered']);
  });

  it('does not report its own answer as answered elsewhere', async () => {
    await startAsking('call_1');
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    input.type('a');
    await waitFor(() => answerPosts().length === 1);
    prompts.handle(ev({ type: 'tool_call_confirmed', tool_call_id: 'call_1', decision: 'approve' }));
    await prompts.close();
    expect(notes).toEqual([]);
  });

  it('says so when the answer lost the race (409) or the call is gone (404)', async () => {
    await startAsking('call_1');
    await client.approve(sessionId, 'call_1');
    prompts.handle(ev(confirmation('call_1')));
    await waitFor(() => input.asking !== undefined);
    input.type('r too late');
    await waitFor(() => notes.length === 1);
    expect(notes).toEqual(['call_1 was already answered elsewhere']);
    prompts.handle(ev(confirmation('call_9')));
    await waitFor(() => input.asking !== undefined);
    input.type('a');
    await waitFor(() => notes.length === 2);
    expect(notes[1]).toBe('call_9 is no longer waiting for an answer');
  });

  it('closes everything when the turn ends', async () => {
    prompts.handle(ev(confirmation('call_1')));
    prompts.handle(ev(confirmation('call_2')));
    await waitFor(() => input.asking !== undefined);
    prompts.handle(ev({ type: 'stream_stopped', turn_id: 't', reason: 'canceled' }));
    await prompts.close();
    expect(input.prompts).toHaveLength(1);
    expect(notes).toEqual(['the turn ended; the prompt for call_1 is closed']);
  });

  it('skips requests in replayed history, but asks the seeded pending ones once', async () => {
    const seeded = new ControlPrompts({ client, sessionId, input, colors: createColors(false), note: (text) => notes.push(text), liveAfter: seq + 3 });
    seeded.seed({
      pending_confirmations: [{ tool_call_id: 'call_live', tool: 'bash', args: {}, requested_at: 'now' }],
      pending_elicitations: [],
    });
    seeded.handle(ev(confirmation('call_old')));
    seeded.handle(ev(confirmation('call_live')));
    seeded.handle(ev({ type: 'stream_stopped', turn_id: 'old', reason: 'normal' }));
    await waitFor(() => input.asking !== undefined);
    expect(input.asking).toContain('call_live');
    seeded.handle(ev(confirmation('call_live')));
    input.type('i');
    await seeded.close();
    expect(input.prompts).toHaveLength(1);
  });
});

describe('ControlPrompts: questions', () => {
  it('maps a text answer onto the schema field and POSTs it', async () => {
    const id = await startQuestions(1, SCHEMA);
    prompts.handle(ev(question(id, SCHEMA)));
    await waitFor(() => input.asking !== undefined);
    expect(input.asking).toBe(`❓ ${id} answer (or /decline, /cancel, /ignore) > `);
    input.type('main');
    await waitFor(() => answerPosts().length === 1);
    expect(answerPosts()).toEqual([{ path: `/elicitations/${id}`, body: { action: 'accept', content: { branch: 'main' } } }]);
  });

  it('sends {answer} without a schema, and /decline as a decline', async () => {
    const first = await startQuestions(2);
    prompts.handle(ev(question(first)));
    await waitFor(() => input.asking !== undefined);
    input.type('  yes please ');
    // The server asks the second question once the first is answered.
    const second = await nextQuestion(first);
    prompts.handle(ev(question(second)));
    await waitFor(() => input.asking?.includes(second) === true);
    input.type('/decline');
    await waitFor(() => answerPosts().length === 2);
    expect(answerPosts().map((p) => p.body)).toEqual([{ action: 'accept', content: { answer: 'yes please' } }, { action: 'decline' }]);
  });

  it('asks again when the server refuses the content (400)', async () => {
    const id = await startQuestions(1, SCHEMA);
    prompts.handle(ev(question(id, SCHEMA)));
    await waitFor(() => input.asking !== undefined);
    input.type('{"other": 1}');
    await waitFor(() => input.prompts.length === 2);
    expect(notes[0]).toBe("The answer does not match the question's schema: branch: is required");
    input.type('{"branch": "dev"}');
    await waitFor(() => answerPosts().length === 2);
    expect(answerPosts()[1]?.body).toEqual({ action: 'accept', content: { branch: 'dev' } });
  });

  it('closes the prompt when elicitation_resolved arrives from another client', async () => {
    prompts.handle(ev(question('el_1')));
    await waitFor(() => input.asking !== undefined);
    prompts.handle(ev({ type: 'elicitation_resolved', elicitation_id: 'el_1', action: 'cancel' }));
    await waitFor(() => notes.length === 1);
    expect(notes).toEqual(['el_1 was answered elsewhere (cancel); prompt closed']);
    expect(answerPosts()).toEqual([]);
  });
});

describe('reply parsing', () => {
  it('reads approval replies', () => {
    expect(parseDecision(' YES ')).toEqual({ kind: 'answer', value: { decision: 'approve' } });
    expect(parseDecision('reject  too   risky')).toEqual({ kind: 'answer', value: { decision: 'reject', reason: 'too risky' } });
    expect(parseDecision('ignore')).toEqual({ kind: 'ignore' });
    expect(parseDecision('')).toMatchObject({ kind: 'invalid' });
  });

  it('reads question replies', () => {
    expect(parseQuestionAnswer('/cancel', undefined)).toEqual({ kind: 'answer', value: { action: 'cancel' } });
    expect(parseQuestionAnswer('/ignore', undefined)).toEqual({ kind: 'ignore' });
    expect(parseQuestionAnswer('/usr/bin', undefined)).toEqual({ kind: 'answer', value: { action: 'accept', content: { answer: '/usr/bin' } } });
    expect(parseQuestionAnswer('{"a": 1}', undefined)).toEqual({ kind: 'answer', value: { action: 'accept', content: { a: 1 } } });
    expect(parseQuestionAnswer('{broken', undefined)).toMatchObject({ kind: 'invalid' });
    expect(parseQuestionAnswer('   ', undefined)).toMatchObject({ kind: 'invalid' });
  });
});
