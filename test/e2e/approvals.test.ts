import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTitleRequest, type ParsedRequest, type ScriptResponse, type ScriptToolCall } from '../../src/fake-models/index.js';
import { startTestTower, type TestTower } from '../support/harness.js';
import { collectEvents, type WireEventLike } from '../support/sse.js';

let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Step n of every turn answers with `steps[n]`; after the last, a closing text. */
function stepsScript(steps: ScriptToolCall[][]) {
  return (r: ParsedRequest): ScriptResponse | undefined => {
    if (isTitleRequest(r)) return undefined;
    const done = r.messages.filter((m) => m.role === 'assistant').length;
    const calls = steps[done];
    return calls ? { text: `step ${done}`, tool_calls: calls } : { text: 'finished' };
  };
}

const post = (tt: TestTower, p: string, body: unknown) =>
  fetch(`${tt.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function untilEvent(tt: TestTower, id: string, pred: (e: WireEventLike, all: WireEventLike[]) => boolean) {
  return collectEvents(`${tt.url}/api/sessions/${id}/events?since=0`, { until: pred });
}
const stopped = (e: WireEventLike) => e.type === 'stream_stopped';
const count = (all: WireEventLike[], type: string) => all.filter((e) => e.type === type).length;

describe('tool approval', () => {
  it('ask → approve: the call waits for a person, then runs', async () => {
    t = await startTestTower({ script: stepsScript([[{ id: 'call_a', name: 'bash', args: { command: 'echo approved-run' } }]]) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'go');
    const asked = await untilEvent(t, s.id, (e) => e.type === 'tool_call_confirmation');
    expect(asked.at(-1)).toMatchObject({ tool_call_id: 'call_a', tool: 'bash', args: { command: 'echo approved-run' } });
    expect((await t.client.status(s.id)).pending_confirmations.map((p) => p.tool_call_id)).toEqual(['call_a']);
    expect((await post(t, `/api/sessions/${s.id}/confirmations/call_a`, { decision: 'approve' })).status).toBe(200);
    const all = await untilEvent(t, s.id, stopped);
    expect(all.find((e) => e.type === 'tool_call_response')).toMatchObject({ is_error: false });
    expect(String(all.find((e) => e.type === 'tool_call_response')?.result)).toContain('approved-run');
    expect(all.find((e) => e.type === 'tool_call_confirmed')).toMatchObject({ tool_call_id: 'call_a', decision: 'approve' });
    const again = await post(t, `/api/sessions/${s.id}/confirmations/call_a`, { decision: 'approve' });
    expect([404, 409]).toContain(again.status);
    expect((await post(t, `/api/sessions/${s.id}/confirmations/nope`, { decision: 'approve' })).status).toBe(404);
  });

  it('approve_tool: the second call to the same tool runs without asking', async () => {
    t = await startTestTower({
      script: stepsScript([
        [{ id: 'c1', name: 'bash', args: { command: 'echo one' } }],
        [{ id: 'c2', name: 'bash', args: { command: 'echo two' } }],
      ]),
    });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'go');
    await untilEvent(t, s.id, (e) => e.type === 'tool_call_confirmation');
    await post(t, `/api/sessions/${s.id}/confirmations/c1`, { decision: 'approve_tool' });
    const all = await untilEvent(t, s.id, stopped);
    expect(count(all, 'tool_call_confirmation')).toBe(1);
    expect(all.filter((e) => e.type === 'tool_call_response').map((e) => e.is_error)).toEqual([false, false]);
    expect((await t.client.getSession(s.id)).permissions.allow).toContain('bash');
  });

  it('reject: the call never runs and the model sees the reason', async () => {
    t = await startTestTower({ script: stepsScript([[{ id: 'c1', name: 'bash', args: { command: 'touch rejected-file' } }]]) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'go');
    await untilEvent(t, s.id, (e) => e.type === 'tool_call_confirmation');
    await post(t, `/api/sessions/${s.id}/confirmations/c1`, { decision: 'reject', reason: 'not on a Friday' });
    await untilEvent(t, s.id, stopped);
    expect(existsSync(path.join(t.workDir, 'rejected-file'))).toBe(false);
    const toolResult = t.fake.parsed.filter((r) => !isTitleRequest(r)).at(-1)?.messages.find((m) => m.role === 'tool');
    expect(toolResult?.text).toContain('not on a Friday');
  });

  it('two pending confirmations answered out of order', async () => {
    t = await startTestTower({
      script: stepsScript([
        [
          { id: 'first', name: 'bash', args: { command: 'echo first > first.txt' } },
          { id: 'second', name: 'bash', args: { command: 'echo second > second.txt' } },
        ],
      ]),
    });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'go');
    await untilEvent(t, s.id, (_e, all) => count(all, 'tool_call_confirmation') === 2);
    expect((await t.client.status(s.id)).pending_confirmations.map((p) => p.tool_call_id)).toEqual(['first', 'second']);
    await post(t, `/api/sessions/${s.id}/confirmations/second`, { decision: 'approve' });
    await post(t, `/api/sessions/${s.id}/confirmations/first`, { decision: 'reject', reason: 'no' });
    const all = await untilEvent(t, s.id, stopped);
    expect(all.filter((e) => e.type === 'tool_call_response').map((e) => [e.tool_call_id, e.is_error])).toEqual([
      ['first', true],
      ['second', false],
    ]);
    expect(existsSync(path.join(t.workDir, 'first.txt'))).toBe(false);
    expect(existsSync(path.join(t.workDir, 'second.txt'))).toBe(true);
  });

  it('deny rules never run, even with auto-approve on', async () => {
    t = await startTestTower({ script: stepsScript([[{ id: 'c1', name: 'bash', args: { command: 'rm -f keep.txt' } }]]) });
    writeFileSync(path.join(t.workDir, 'keep.txt'), 'precious');
    const s = await t.client.createSession({ permissions: { deny: ['bash:cmd=rm *'] } });
    expect(await (await post(t, `/api/sessions/${s.id}/tools/toggle`, {})).json()).toEqual({ auto_approve: true });
    await t.client.send(s.id, 'go');
    const all = await untilEvent(t, s.id, stopped);
    expect(count(all, 'tool_call_confirmation')).toBe(0);
    expect(all.find((e) => e.type === 'tool_call_response')).toMatchObject({ is_error: true });
    expect(existsSync(path.join(t.workDir, 'keep.txt'))).toBe(true);
  });

  it('approve_session makes the rest of the session autonomous', async () => {
    t = await startTestTower({
      script: stepsScript([
        [{ id: 'c1', name: 'bash', args: { command: 'echo 1' } }],
        [{ id: 'c2', name: 'bash', args: { command: 'echo 2' } }],
      ]),
    });
    const s = await t.client.createSession({ permissions: { policy: 'strict' } });
    await t.client.send(s.id, 'go');
    await untilEvent(t, s.id, (e) => e.type === 'tool_call_confirmation');
    await post(t, `/api/sessions/${s.id}/confirmations/c1`, { decision: 'approve_session' });
    const all = await untilEvent(t, s.id, stopped);
    expect(count(all, 'tool_call_confirmation')).toBe(1);
    expect((await t.client.getSession(s.id)).permissions.policy).toBe('autonomous');
  });
});

describe('questions to the user (ask_user)', () => {
  const schema = { type: 'object', properties: { color: { type: 'string', enum: ['red', 'blue'] } }, required: ['color'] };

  it('waits for the answer, validates it against the schema, and hands it to the model', async () => {
    t = await startTestTower({ script: stepsScript([[{ id: 'q1', name: 'ask_user', args: { message: 'Which color?', schema } }]]) });
    const s = await t.client.createSession();
    await t.client.send(s.id, 'ask me');
    const asked = await untilEvent(t, s.id, (e) => e.type === 'elicitation_request');
    const request = asked.at(-1)!;
    expect(request).toMatchObject({ message: 'Which color?', schema });
    const id = String(request.elicitation_id);
    const bad = await post(t, `/api/sessions/${s.id}/elicitations/${id}`, { action: 'accept', content: { color: 'green' } });
    expect(bad.status).toBe(400);
    expect((await t.client.status(s.id)).pending_elicitations).toHaveLength(1);
    expect((await post(t, `/api/sessions/${s.id}/elicitations/${id}`, { action: 'accept', content: { color: 'blue' } })).status).toBe(200);
    expect((await post(t, `/api/sessions/${s.id}/elicitations/${id}`, { action: 'decline' })).status).toBe(409);
    const all = await untilEvent(t, s.id, stopped);
    const result = all.find((e) => e.type === 'tool_call_response');
    expect(JSON.parse(String(result?.result))).toEqual({ action: 'accept', content: { color: 'blue' } });
    expect(all.find((e) => e.type === 'elicitation_resolved')).toMatchObject({ elicitation_id: id, action: 'accept' });
  });
});
