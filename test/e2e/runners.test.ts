import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TowerEvent } from '../../src/client/index.js';
import type { RunnerTokenList } from '../../src/protocol/runner-api.js';
import { startRunnerTower, type RunnerTower } from '../support/runners.js';
import { isProcessAlive, waitFor } from '../support/wait.js';

/**
 * Tower on loopback with the fake model server and real `tower runner` child processes: sessions' tool
 * calls routed to runners by labels. Synchronised on events, API answers and files, never on sleeps.
 */

let t: RunnerTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const ofType = (events: TowerEvent[], type: string) => events.filter((e) => e.type === type) as Array<TowerEvent & Record<string, unknown>>;

describe('remote runners end to end', () => {
  it("runs a session's tool calls on a runner with matching labels, streaming bash output before the command ends", async () => {
    t = await startRunnerTower();
    const token = await t.token('builder', ['linux', 'gpu']);
    const other = await t.token('plain', ['linux']);
    const ws = path.join(t.base, 'ws-builder');
    t.runner(token.token, 'builder', ws);
    t.runner(other.token, 'plain', path.join(t.base, 'ws-plain'));
    await t.online(token.id);
    await t.online(other.id);
    const session = await t.client.createSession({ runner: { labels: ['gpu'] } });
    expect(session.runner).toEqual({ labels: ['gpu'] });

    const wrote = await t.call(session.id, 'write', { path: 'hello.txt', content: 'hi there' });
    // The runner is picked when the model asks for the call, so the tool_call event names it already.
    expect(ofType(wrote, 'tool_call')[0]).toMatchObject({ tool: 'write', runner: { id: token.id, name: 'builder' } });
    expect(ofType(wrote, 'tool_call_response')[0]).toMatchObject({ is_error: false, runner: { id: token.id, name: 'builder' } });
    expect(readFileSync(path.join(ws, 'hello.txt'), 'utf8')).toBe('hi there');
    const read = await t.call(session.id, 'read', { path: 'hello.txt' });
    expect(ofType(read, 'tool_call_response')[0]).toMatchObject({ result: expect.stringContaining('hi there'), runner: { id: token.id } });

    let sawOutputFirst = false;
    const bash = await t.call(session.id, 'bash', { command: 'echo first; while [ ! -e go ]; do sleep 0.05; done; echo second' }, async (e) => {
      const ev = e as TowerEvent & { data?: string };
      if (e.type === 'tool_call_output' && String(ev.data).includes('first')) {
        sawOutputFirst = true;
        await writeFile(path.join(ws, 'go'), '');
      }
    });
    expect(sawOutputFirst).toBe(true);
    expect(ofType(bash, 'tool_call')[0]).toMatchObject({ runner: { id: token.id, name: 'builder' } });
    const response = ofType(bash, 'tool_call_response')[0];
    expect(response).toMatchObject({ is_error: false, runner: { id: token.id, name: 'builder' }, result: expect.stringContaining('first\nsecond') });
    const types = bash.map((e) => e.type);
    expect(types.indexOf('tool_call_output')).toBeLessThan(types.indexOf('tool_call_response'));

    // Listing: both runners online with their environment and metrics.
    const list = await t.api<{ runners: Array<Record<string, unknown>> }>('GET', '/api/runners');
    expect(list.body.runners.map((r) => r.name).sort()).toEqual(['builder', 'plain']);
    expect(list.body.runners[0]).toMatchObject({ status: 'online', environment: expect.any(Object), metrics: expect.any(Object), running_tasks: 0 });
  });

  it('interrupting mid-bash cancels the remote task and leaves no process', async () => {
    t = await startRunnerTower();
    const token = await t.token('r', []);
    const ws = path.join(t.base, 'ws');
    t.runner(token.token, 'r', ws);
    await t.online(token.id);
    const session = await t.client.createSession({ runner: { labels: [] } });
    const command = 'echo $$ > pids.txt; sleep 100 & echo $! >> pids.txt; (sleep 100 & echo $! >> pids.txt; wait) & while [ $(wc -l < pids.txt) -lt 3 ]; do sleep 0.02; done; echo started; sleep 100';
    let pids: number[] = [];
    const events = await t.call(session.id, 'bash', { command }, async (e) => {
      const ev = e as TowerEvent & { data?: string };
      if (e.type === 'tool_call_output' && String(ev.data).includes('started')) {
        pids = (await readFile(path.join(ws, 'pids.txt'), 'utf8')).split('\n').filter(Boolean).map(Number);
        expect(pids.every(isProcessAlive)).toBe(true);
        await t?.client.interrupt(session.id);
      }
    });
    expect(pids).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'canceled' });
    await waitFor(() => pids.every((p) => !isProcessAlive(p)), 15_000);
    await waitFor(() => t?.gateway.registry.get(token.id)?.running_tasks === 0, 15_000);
  });

  it('with no matching runner online, the call fails after runner_wait with a no_runner error event', async () => {
    t = await startRunnerTower({ runnerWaitMs: 300 });
    const session = await t.client.createSession({ runner: { labels: ['nowhere'] } });
    const events = await t.call(session.id, 'bash', { command: 'echo hi' });
    expect(ofType(events, 'tool_call')[0]?.runner).toBeUndefined();
    expect(ofType(events, 'error')[0]).toMatchObject({ code: 'no_runner', message: expect.stringContaining('nowhere') });
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: true, result: expect.stringContaining('no runner') });
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
  });

  it('a runner killed with SIGKILL and restarted reconnects and serves again', async () => {
    t = await startRunnerTower();
    const token = await t.token('phoenix', []);
    const ws = path.join(t.base, 'ws');
    const first = t.runner(token.token, 'phoenix', ws);
    const before = await t.online(token.id);
    first.kill('SIGKILL');
    await once(first, 'exit');
    await waitFor(async () => (await t!.api<{ status: string }>('GET', `/api/runners/${token.id}`)).body.status === 'offline', 15_000);
    t.runner(token.token, 'phoenix', ws);
    await waitFor(() => t!.gateway.registry.get(token.id)?.connected_at !== before.connected_at && t!.gateway.registry.get(token.id)?.status === 'online', 30_000);
    const session = await t.client.createSession({ runner: { labels: [] } });
    const events = await t.call(session.id, 'bash', { command: 'echo again' });
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: expect.stringContaining('again'), runner: { id: token.id } });
  });

  it('a runner disconnected mid-task delivers the result after reconnecting, exactly once', async () => {
    t = await startRunnerTower();
    const token = await t.token('flaky', []);
    const ws = path.join(t.base, 'ws');
    t.runner(token.token, 'flaky', ws);
    const before = await t.online(token.id);
    const session = await t.client.createSession({ runner: { labels: [] } });
    const gateway = t.gateway as unknown as { wss: { clients: Set<WebSocket> } };
    const events = await t.call(session.id, 'bash', { command: 'echo started; while [ ! -e go ]; do sleep 0.05; done; echo finished' }, async (e) => {
      const ev = e as TowerEvent & { data?: string };
      if (e.type === 'tool_call_output' && String(ev.data).includes('started')) {
        for (const client of gateway.wss.clients) client.terminate();
        await writeFile(path.join(ws, 'go'), '');
      }
    });
    const responses = ofType(events, 'tool_call_response');
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ is_error: false, result: expect.stringContaining('started\nfinished') });
    expect(t.gateway.registry.get(token.id)?.connected_at).not.toBe(before.connected_at);
    const snap = await t.client.snapshot(session.id);
    expect(snap.messages.filter((m) => m.message.role === 'tool')).toHaveLength(1);
  });

  it('a fake runner sending junk gets error frames while the real runner beside it keeps working; a revoked token is refused at once and its connection closed', async () => {
    t = await startRunnerTower();
    const real = await t.token('real', []);
    const junkToken = await t.token('junk', ['junk']);
    t.runner(real.token, 'real', path.join(t.base, 'ws'));
    await t.online(real.id);
    const junk = new WebSocket(t.wsUrl, { headers: { authorization: `Bearer ${junkToken.token}` } });
    const frames: Array<{ type: string; payload: { code?: string } }> = [];
    junk.on('message', (d) => frames.push(JSON.parse(String(d)) as { type: string; payload: { code?: string } }));
    await once(junk, 'open');
    junk.send('not json');
    junk.send(JSON.stringify({ id: 'x', type: 'task.explode', payload: {}, timestamp: 1 }));
    junk.send(JSON.stringify({ id: 'y', type: 'task.result', payload: { task_id: 'never', success: true }, timestamp: 1 }));
    await waitFor(() => frames.filter((f) => f.type === 'error').length >= 3);
    expect(frames.filter((f) => f.type === 'error').map((f) => f.payload.code)).toEqual(['invalid_json', 'unknown_type', 'unknown_task']);
    const session = await t.client.createSession({ runner: { labels: [] } });
    // Revoking the junk runner's token closes its live connection at once; then only the real one can serve.
    const closed = once(junk, 'close');
    const revoked = await t.api<{ revoked: boolean; disconnected: number }>('DELETE', `/api/runners/tokens/${junkToken.id}`);
    expect(revoked.body).toEqual({ revoked: true, disconnected: 1 });
    const [code] = (await closed) as [number];
    expect(code).toBe(4001);
    const again = new WebSocket(t.wsUrl, { headers: { authorization: `Bearer ${junkToken.token}` } });
    const [err] = (await once(again, 'error')) as [Error];
    expect(err.message).toMatch(/401/);
    const events = await t.call(session.id, 'bash', { command: 'echo still fine' });
    expect(ofType(events, 'tool_call_response')[0]).toMatchObject({ is_error: false, result: expect.stringContaining('still fine'), runner: { id: real.id } });
    const listed = await t.api<RunnerTokenList>('GET', '/api/runners/tokens');
    expect(listed.body.tokens.find((x) => x.id === junkToken.id)?.revoked_at).toEqual(expect.any(String));
    expect(JSON.stringify(listed.body)).not.toContain(junkToken.token);
  });
});
