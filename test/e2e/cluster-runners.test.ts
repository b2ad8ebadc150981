import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../src/bus/test-redis.js';
import { startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';
import type { StoredEvent } from '../../src/protocol/events.js';
import type { CreatedRunnerToken, RunnerList, RunnerView } from '../../src/protocol/runner-api.js';
import type { Tower } from '../../src/server/tower.js';
import { NO_POSTGRES, TEST_PG_URL, assertPostgresReachable, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { runnersTransport } from '../../src/transports/runners/index.js';
import { startNodes } from '../support/cluster.js';
import { tempDir } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { spawnNodeRunner, stopRunner, toolCallScript } from '../support/runners.js';

/** A session's events through `tower` (store catch-up, then live) until `until` holds. */
async function eventsUntil(tower: Tower, id: string, since: number, until: (e: StoredEvent) => boolean, onEvent?: (e: StoredEvent) => void): Promise<StoredEvent[]> {
  const sub = await tower.manager.subscribe(id, since);
  const out: StoredEvent[] = [];
  try {
    for await (const batch of sub) {
      for (const e of batch) {
        out.push(e);
        onEvent?.(e);
        if (until(e)) return out;
      }
    }
  } finally {
    sub.close();
  }
  return out;
}

const ofType = (events: StoredEvent[], type: StoredEvent['type']) => events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

describe.skipIf(NO_POSTGRES)('a tool call of a session on node A runs on a runner connected to node B', () => {
  const schema = uniqueSchema('crun');
  let fake: FakeModelServer;
  let cluster: Awaited<ReturnType<typeof startNodes>>;
  let a: Tower;
  let b: Tower;
  let runner: ChildProcess & { output(): string };
  let token: CreatedRunnerToken;
  const base = tempDir('cluster-runners');

  beforeAll(async () => {
    await assertPostgresReachable();
    fake = await startFakeModelServer({ format: 'openai', script: toolCallScript });
    cluster = await startNodes(2, {
      storeUrl: `${TEST_PG_URL}?schema=${schema}`,
      busUrl: TEST_REDIS_URL,
      fake,
      autonomous: true,
      env: { TOWER_RUNNER_PRESENCE_MS: '200' },
      transports: () => [runnersTransport({ heartbeatMs: 300, heartbeatEventMs: 0, runnerWaitMs: 20_000 })],
    });
    [a, b] = cluster.nodes as [Tower, Tower];
    const res = await fetch(`${b.url}/api/runners/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'far', labels: ['far-away'] }),
    });
    expect(res.status).toBe(201);
    token = (await res.json()) as CreatedRunnerToken;
    runner = spawnNodeRunner(base, b.url, token.token, 'far');
  });
  afterAll(async () => {
    await stopRunner(runner);
    await cluster?.close();
    await fake?.close();
    await dropSchema(schema);
    rmSync(base, { recursive: true, force: true });
  });

  it('bash runs there: its output streams to the session, the result arrives, the call names the runner', async () => {
    const session = await a.commands.execute('sessions.create', { runner: { labels: ['far-away'] } });
    const id = session.id;
    // The first call waits for the runner to come online (on b) and be published to a.
    await a.commands.execute('sessions.send', { session_id: id, content: JSON.stringify({ tool: 'bash', args: { command: 'echo first' } }) });
    expect(a.manager.turnOf(id)).toBeDefined();
    const first = await eventsUntil(a, id, 0, (e) => e.type === 'stream_stopped');
    expect(ofType(first, 'tool_call_response')[0]).toMatchObject({ is_error: false, runner: { id: token.id, name: 'far' } });
    expect(text(ofType(first, 'tool_call_response')[0]?.result)).toContain('first');

    // Known to a now: the call is placed on b's runner as it is recorded, and its output streams.
    const since = first.at(-1)?.seq ?? 0;
    const command = 'echo one; sleep 0.3; echo two';
    await a.commands.execute('sessions.send', { session_id: id, content: JSON.stringify({ tool: 'bash', args: { command } }) });
    const second = await eventsUntil(a, id, since, (e) => e.type === 'stream_stopped');
    expect(ofType(second, 'tool_call')[0]).toMatchObject({ tool: 'bash', runner: { id: token.id, name: 'far' } });
    const streamed = ofType(second, 'tool_call_output').map((d) => text(d.data)).join('');
    expect(streamed).toContain('one');
    expect(streamed).toContain('two');
    const response = ofType(second, 'tool_call_response')[0];
    expect(response).toMatchObject({ is_error: false, runner: { id: token.id, name: 'far' } });
    expect(text(response?.result)).toMatch(/one[\s\S]*two/);
    expect(ofType(second, 'stream_stopped')[0]).toMatchObject({ reason: 'normal' });
    // The session's turns ran on a, the tasks on b's runner: nothing of the session moved.
    expect(b.manager.turnOf(id)).toBeUndefined();
  });

  it('GET /api/runners on either node lists the cluster’s runners, each with the node holding it', async () => {
    const listed = async (tower: Tower): Promise<RunnerView[]> => ((await (await fetch(`${tower.url}/api/runners`)).json()) as RunnerList).runners;
    // b holds the connection: its own runner, marked with b's node id.
    const onB = (await listed(b)).find((r) => r.id === token.id);
    expect(onB).toMatchObject({ name: 'far', labels: ['far-away'], status: 'online' });
    const node = onB?.node;
    expect(node).toEqual(expect.any(String));
    // a knows it from b's presence: the same runner, the same node, with its details.
    await waitFor(async () => (await listed(a)).some((r) => r.id === token.id));
    const onA = (await listed(a)).filter((r) => r.id === token.id);
    expect(onA).toEqual([expect.objectContaining({ name: 'far', labels: ['far-away'], status: 'online', node, version: onB?.version, connected_at: onB?.connected_at })]);
    const one = (await (await fetch(`${a.url}/api/runners/${token.id}`)).json()) as RunnerView;
    expect(one).toMatchObject({ id: token.id, node });
  });

  it('an interrupt on node A cancels the task on B’s runner', async () => {
    const session = await a.commands.execute('sessions.create', { runner: { labels: ['far-away'] } });
    const id = session.id;
    await a.commands.execute('sessions.send', { session_id: id, content: JSON.stringify({ tool: 'bash', args: { command: 'echo started; sleep 30; echo never' } }) });
    let interrupted = false;
    const events = await eventsUntil(a, id, 0, (e) => e.type === 'stream_stopped', (e) => {
      if (!interrupted && e.type === 'tool_call_output') {
        interrupted = true;
        void a.commands.execute('sessions.interrupt', { session_id: id });
      }
    });
    expect(interrupted).toBe(true);
    expect(ofType(events, 'stream_stopped')[0]).toMatchObject({ reason: 'canceled' });
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: true });
    expect(text(ofType(events, 'tool_call_response')[0]?.result)).not.toContain('never');
    // b's gateway saw the task end: the runner carries no task any more.
    const listed = (await (await fetch(`${b.url}/api/runners/${token.id}`)).json()) as { running_tasks: number };
    expect(listed.running_tasks).toBe(0);
  });
});
