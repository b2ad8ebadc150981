import { once } from 'node:events';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import { capture } from '../../src/cli/testing/capture.js';
import { HubClient } from '../support/hub.js';
import { startRunnerTower, type RunnerTower } from '../support/runners.js';

/** Runner administration: the CLI over the API, and runner events on the hub's `runner` topic. */

let t: RunnerTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function tower(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await run(['--url', t!.tower.url, ...args], c.io);
  return { code, out: c.stdout(), err: c.stderr() };
}

describe('runner administration', () => {
  it('tower runners token create|ls|revoke and tower runners ls; runner events reach hub subscribers', async () => {
    t = await startRunnerTower();
    const hub = await HubClient.connect(t.tower.url);
    hub.send('subscribe', { topics: ['runner'] });
    await hub.next((f) => f.type === 'subscribed');

    const created = await tower(['runners', 'token', 'create', '--name', 'ci', '--labels', 'linux,gpu']);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^trt_/);
    expect(await tower(['runners', 'token', 'create', '--name', 'x', '--labels', 'bad label'])).toMatchObject({ code: 1, err: expect.stringContaining('--labels') });
    const listed = JSON.parse((await tower(['--json', 'runners', 'token', 'ls'])).out) as { tokens: Array<{ id: string; name: string; labels: string[]; revoked_at: string | null }> };
    expect(listed.tokens).toEqual([expect.objectContaining({ name: 'ci', labels: ['linux', 'gpu'], revoked_at: null })]);
    expect(JSON.stringify(listed)).not.toContain(token);
    const id = listed.tokens[0]!.id;

    expect((await tower(['runners', 'ls'])).out).toBe('no runners\n');
    const child = t.runner(token, 'ci', path.join(t.base, 'ws'));
    await t.online(id);
    expect((await tower(['runners', 'ls'])).out).toMatch(new RegExp(`^${id}\\s+ci\\s+online\\s+\\[linux,gpu\\]\\s+tasks 0`, 'm'));
    await hub.next((f) => f.type === 'runner' && f.data?.type === 'runner_connected');
    await hub.next((f) => f.type === 'runner' && f.data?.type === 'runner_heartbeat');

    expect((await tower(['runners', 'token', 'revoke', id])).out).toBe(`revoked ${id}; disconnected 1 runner\n`);
    await hub.next((f) => f.type === 'runner' && f.data?.type === 'runner_disconnected');
    expect((await tower(['runners', 'token', 'revoke', id]))).toMatchObject({ code: 1 });
    expect((await tower(['--json', 'runners', 'ls'])).out).toContain('"status": "offline"');
    expect(await tower(['runners', 'token', 'ls'])).toMatchObject({ out: expect.stringContaining('revoked ') });
    child.kill('SIGKILL');
    await once(child, 'exit');
    hub.ws.close();
  });

  it('bad bodies get clear errors and change nothing; a session runner is set and cleared by PATCH', async () => {
    t = await startRunnerTower();
    const bad = await t.api<{ code: string }>('POST', '/api/runners/tokens', { name: '', labels: ['ok'] });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
    const junk = await t.api<{ code: string }>('POST', '/api/runners/tokens', { name: 'a', labels: ['no spaces'], extra: 1 });
    expect(junk.status).toBe(400);
    expect((await t.api<{ tokens: unknown[] }>('GET', '/api/runners/tokens')).body.tokens).toEqual([]);
    expect((await t.api<{ code: string }>('GET', '/api/runners/nope')).body.code).toBe('not_found');
    expect((await t.api<{ code: string }>('DELETE', '/api/runners/tokens/nope')).body.code).toBe('not_found');

    const session = await t.client.createSession();
    expect(session.runner).toBeUndefined();
    expect((await t.client.updateSession(session.id, { runner: { labels: ['gpu'] } })).runner).toEqual({ labels: ['gpu'] });
    expect((await t.client.getSession(session.id)).runner).toEqual({ labels: ['gpu'] });
    expect((await t.client.updateSession(session.id, { runner: null })).runner).toBeUndefined();
    const refused = await t.api<{ code: string }>('PATCH', `/api/sessions/${session.id}`, { runner: { labels: ['bad label'] } });
    expect(refused.status).toBe(400);
  });

  it("the config's runner and runner_wait apply to sessions that name no runner", async () => {
    t = await startRunnerTower({ config: { runner: { labels: ['from-config'] }, runner_wait: 0.2 } });
    const token = await t.token('cfg', ['from-config']);
    const session = await t.client.createSession();
    const missed = await t.call(session.id, 'bash', { command: 'echo hi' });
    expect(missed.find((e) => e.type === 'error')).toMatchObject({ code: 'no_runner', message: expect.stringContaining('from-config') });
    t.runner(token.token, 'cfg', path.join(t.base, 'ws'));
    await t.online(token.id);
    const served = await t.call(session.id, 'bash', { command: 'echo served' });
    expect(served.find((e) => e.type === 'tool_call_response')).toMatchObject({ is_error: false, runner: { id: token.id, name: 'cfg' } });
  });
});
