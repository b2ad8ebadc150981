import { afterEach, describe, expect, it } from 'vitest';
import { startTestTower, type TestTower } from '../support/harness.js';
import { sample } from '../support/prometheus.js';
import { readFrames } from '../support/sse.js';

const TOKEN = 'metrics-test-token-0123456789';
let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('GET /metrics', () => {
  it('is behind the token, and its counters move during a turn', async () => {
    t = await startTestTower({
      token: TOKEN,
      script: [
        { text: 'Looking around.', tool_calls: [{ name: 'list', args: { path: '.' } }], usage: { input_tokens: 50, output_tokens: 7 } },
        { text: 'still thinking', hang: true },
      ],
    });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    const scrape = async (): Promise<string> => {
      const res = await fetch(`${t!.url}/metrics`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const before = await scrape();
    expect(sample(before, 'tower_turns_started_total')).toBeUndefined();

    const session = await t.client.createSession();
    const ctrl = new AbortController();
    const stream = await fetch(`${t.url}/api/sessions/${session.id}/events?since=0`, { headers: auth, signal: ctrl.signal });
    const frames = readFrames(stream);
    await t.client.send(session.id, 'look around');
    // Synchronise on the log: the tool has answered, so the first step and the tool call are recorded.
    for (let f = await frames.next(); !f.done && f.value.event !== 'tool_call_response'; f = await frames.next());

    const during = await scrape();
    expect(sample(during, 'tower_sessions', { status: 'running' })).toBe(1);
    expect(sample(during, 'tower_turns_started_total', { model: t.model })).toBe(1);
    expect(sample(during, 'tower_events_appended_total', { type: 'user_message' })).toBe(1);
    expect(sample(during, 'tower_events_appended_total', { type: 'agent_choice' })).toBeGreaterThan(0);
    expect(sample(during, 'tower_live_subscribers', { transport: 'sse' })).toBe(1);
    expect(sample(during, 'tower_catchup_reads_total', { transport: 'sse' })).toBeGreaterThanOrEqual(1);
    expect(sample(during, 'tower_commit_batch_size_count')).toBeGreaterThan(0);
    expect(sample(during, 'tower_commit_duration_seconds_count')).toBe(sample(during, 'tower_commit_batch_size_count'));
    expect(sample(during, 'tower_model_step_duration_seconds_count', { model: t.model, outcome: 'ok' })).toBe(1);
    expect(sample(during, 'tower_model_tokens_total', { model: t.model, kind: 'input' })).toBe(50);
    expect(sample(during, 'tower_model_tokens_total', { model: t.model, kind: 'output' })).toBe(7);
    expect(sample(during, 'tower_tool_call_duration_seconds_count', { tool: 'list', outcome: 'ok' })).toBe(1);
    expect(sample(during, 'tower_queue_depth', { queue: 'followup' })).toBe(0);
    expect(sample(during, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(during, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    await t.client.followup(session.id, ['and then this']);
    expect(sample(await scrape(), 'tower_queue_depth', { queue: 'followup' })).toBe(1);

    await t.client.interrupt(session.id, { clearQueue: true });
    ctrl.abort();
    await frames.return(undefined).catch(() => undefined);
    const after = await scrape();
    expect(sample(after, 'tower_turns_ended_total', { reason: 'canceled' })).toBe(1);
    expect(sample(after, 'tower_sessions', { status: 'running' })).toBe(0);
    expect(sample(after, 'tower_sessions', { status: 'idle' })).toBe(1);
    expect(sample(after, 'tower_model_step_duration_seconds_count', { model: t.model, outcome: 'aborted' })).toBe(1);
    expect(sample(after, 'tower_queue_depth', { queue: 'followup' })).toBe(0);
  });
});
