import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { ConversationMessage } from '../../src/protocol/conversation.js';
import { isTitleRequest, type ParsedRequest, type ScriptResponse } from '../../src/fake-models/index.js';
import { startTestTower, type TestTower } from '../support/harness.js';
import { seededRandom, shuffle, testSeed } from '../support/random.js';
import { range } from '../support/sse.js';

/** Every tool call has exactly one result, right after its assistant message; no result without a call. */
export function conversationProblems(messages: ConversationMessage[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'tool') {
      problems.push(`tool result ${m.tool_call_id} at ${i} without a call right before it`);
      continue;
    }
    if (m.role !== 'assistant' || !m.tool_calls?.length) continue;
    const results = [];
    let j = i + 1;
    while (messages[j]?.role === 'tool') results.push(messages[j++] as Extract<ConversationMessage, { role: 'tool' }>);
    const ids = m.tool_calls.map((c) => c.id).sort();
    const got = results.map((r) => r.tool_call_id).sort();
    if (JSON.stringify(ids) !== JSON.stringify(got)) problems.push(`calls ${ids} at ${i} answered by ${got}`);
    i = j - 1;
  }
  return problems;
}

// A busy agent: streams, calls tools (one slow), and answers.
function busyScript(r: ParsedRequest): ScriptResponse | undefined {
  if (isTitleRequest(r)) return undefined;
  const steps = r.messages.filter((m) => m.role === 'assistant').length;
  if (steps % 3 === 0) {
    return {
      text: 'looking around now',
      tokensPerSecond: 200,
      tool_calls: [
        { name: 'bash', args: { command: 'sleep 0.05; echo ok' } },
        { name: 'list', args: { path: '.' } },
      ],
    };
  }
  if (steps % 3 === 1) return { text: 'one more look', tool_calls: [{ name: 'read', args: { path: 'missing.txt' } }] };
  return { text: 'all done here', tokensPerSecond: 300 };
}

let t: TestTower;
beforeAll(async () => {
  t = await startTestTower({ script: busyScript });
});
afterAll(() => t.close());

const post = (p: string, body?: unknown) =>
  fetch(`${t.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  }).then((r) => r.status);

describe('steer, follow-up, interrupt and delete fired concurrently at running sessions', () => {
  it('never crash, never leave a session stuck, keep every log gap-free and every conversation valid', async () => {
    const rounds = 12;
    // Printed so a failing run can be replayed with TOWER_TEST_SEED=<seed>.
    const seed = testSeed();
    const random = seededRandom(seed);
    onTestFailed(() => console.error(`race.test.ts seed: ${seed} (replay with TOWER_TEST_SEED=${seed})`));
    const statuses = new Set<number>();
    const sessions: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const batch = await Promise.all(
        Array.from({ length: 4 }, async (_, k) => {
          const s = await t.client.createSession({ permissions: { policy: 'autonomous' } });
          sessions.push(s.id);
          await t.client.send(s.id, `round ${round} session ${k}`);
          const base = `/api/sessions/${s.id}`;
          const shots = [
            () => post(`${base}/steer`, { messages: [{ content: 'steer a' }] }),
            () => post(`${base}/followup`, { messages: [{ content: 'follow 1' }, { content: 'follow 2' }] }),
            () => post(`${base}/steer`, { messages: [{ content: 'steer b' }] }),
            () => post(`${base}/interrupt`),
            () => post(`${base}/messages`, { content: 'double text', on_busy: k % 2 ? 'interrupt' : 'enqueue' }),
            () => post(`${base}/followup`, { messages: [{ content: 'follow 3' }] }),
          ];
          if ((round + k) % 3 === 0) shots.push(() => fetch(`${t.url}${base}`, { method: 'DELETE' }).then((r) => r.status));
          // Fire in a shuffled order with small random delays, all at once (seeded: replayable).
          const fired = shuffle(shots, random).map(
            (shot, i) => new Promise<number>((resolve) => setTimeout(() => resolve(shot()), random() * 30 * (i % 3))),
          );
          for (const code of await Promise.all(fired)) statuses.add(code);
        }),
      );
      void batch;
    }
    // Only documented answers: accepted, ok, busy/idle, queue full, unknown session (after a delete).
    for (const code of statuses) expect([200, 202, 404, 409, 429]).toContain(code);

    for (const id of sessions) {
      const exists = await t.store().getSession(id);
      if (!exists) continue;
      // Not stuck: every remaining session drains its queue and goes idle.
      let idle = false;
      for (let i = 0; i < 100 && !idle; i++) {
        idle = (await t.tower.manager.waitIdle(id, 200)) && (await t.client.queue(id)).followup.depth === 0;
        if (idle) idle = await t.tower.manager.waitIdle(id, 50);
      }
      if (!idle) {
        const tail = (await t.store().readEvents(id, 0, 100_000)).slice(-12).map((e) => `${e.seq} ${e.type} ${JSON.stringify(e.data).slice(0, 80)}`);
        const status = await t.client.status(id);
        expect.fail(`session ${id} never went idle: ${JSON.stringify(status)}\n${tail.join('\n')}`);
      }
      const events = await t.store().readEvents(id, 0, 100_000);
      expect(events.map((e) => e.seq)).toEqual(range(1, events.length));
      const starts = events.filter((e) => e.type === 'stream_started').length;
      const stops = events.filter((e) => e.type === 'stream_stopped').length;
      expect(stops).toBe(starts);
      const messages = (await t.store().listMessages(id)).map((m) => m.message);
      expect(conversationProblems(messages)).toEqual([]);
    }
    // The server is still fine.
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  }, 120_000);
});
