import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StubTower, textTurn } from '../client/testing/stub-tower.js';
import { run } from './program.js';
import { capture, waitFor } from './testing/capture.js';

let stub: StubTower;

beforeEach(async () => {
  stub = await StubTower.start({ token: 'tok' });
});

afterEach(async () => {
  await stub.close();
});

function tower(args: string[], captured = capture()): Promise<number> {
  return run(['--url', stub.url, '--token', 'tok', ...args], captured.io);
}

describe('tower sessions', () => {
  it('ls --json prints the session list as one JSON document', async () => {
    stub.addSession({ title: 'alpha' });
    stub.addSession({ title: 'beta' });
    const c = capture();
    expect(await tower(['sessions', 'ls', '--json'], c)).toBe(0);
    const list = JSON.parse(c.stdout()) as { items: Array<{ title: string }> };
    expect(list.items.map((s) => s.title)).toEqual(['beta', 'alpha']);
  });

  it('ls prints a table', async () => {
    stub.addSession({ title: 'alpha', input_tokens: 1_200, output_tokens: 300, message_count: 4 });
    const c = capture();
    expect(await tower(['sessions', 'ls', '--limit', '5'], c)).toBe(0);
    const [header, row] = c.stdout().split('\n');
    expect(header?.split(/\s+/)).toEqual(['ID', 'TITLE', 'MODEL', 'MESSAGES', 'TOKENS', 'UPDATED']);
    expect(row?.split(/\s{2,}/).slice(0, 5)).toEqual(['ses_1', 'alpha', 'fake/model', '4', '1.5k']);
    expect(stub.requests.at(-1)?.query.get('limit')).toBe('5');
  });

  it('show prints fields and the conversation', async () => {
    const { id } = stub.addSession({ title: 'chat' });
    await tower(['send', id, 'hello']);
    const c = capture();
    expect(await tower(['sessions', 'show', id], c)).toBe(0);
    expect(c.stdout()).toContain('title     chat\n');
    expect(c.stdout()).toContain('> hello\nHello from the stub.\n');
  });

  it('rm deletes one or many sessions', async () => {
    const a = stub.addSession();
    const b = stub.addSession();
    const c = capture();
    expect(await tower(['sessions', 'rm', a.id, b.id, 'ses_missing'], c)).toBe(1);
    expect(c.stdout()).toBe('deleted 2 sessions\n');
    expect(c.stderr()).toBe('error: could not delete ses_missing\n');
  });

  it('export -o then import round-trips through a file', async () => {
    const { id } = stub.addSession({ title: 'keep me' });
    const dir = await mkdtemp(join(tmpdir(), 'tower-cli-'));
    try {
      const file = join(dir, 'export.json');
      expect(await tower(['sessions', 'export', id, '-o', file])).toBe(0);
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, session: { id, title: 'keep me' } });
      // On the server it came from, the id is taken: a plain import is a conflict, --as-new a new session.
      const conflict = capture();
      expect(await tower(['sessions', 'import', file], conflict)).toBe(1);
      expect(conflict.stderr()).toContain('(conflict)');
      const c = capture();
      expect(await tower(['sessions', 'import', '--as-new', file], c)).toBe(0);
      expect(c.stdout()).toMatch(/^ses_\d+\n$/);
      expect(c.stdout()).not.toBe(`${id}\n`);
      expect(stub.requests.at(-1)?.path).toBe('/api/sessions/import');
      expect(stub.requests.at(-1)?.query.get('as_new')).toBe('true');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('import rejects a file that is not an export before calling the server', async () => {
    const c = capture({ stdin: '{"version":2}' });
    expect(await tower(['sessions', 'import', '-'], c)).toBe(1);
    expect(c.stderr()).toMatch(/^error: not a session export at version/);
    expect(stub.requests).toHaveLength(0);
  });

  it('reports an API error with its code', async () => {
    const c = capture();
    expect(await tower(['sessions', 'show', 'nope'], c)).toBe(1);
    expect(c.stderr()).toBe('error: no session at /api/sessions/nope/snapshot (unknown_session)\n');
  });

  it('hints at the token on 401', async () => {
    const c = capture();
    expect(await run(['--url', stub.url, 'sessions', 'ls'], c.io)).toBe(1);
    expect(c.stderr()).toContain('(unauthorized)\nhint: pass the server token with --token or TOWER_TOKEN\n');
  });
});

describe('tower send', () => {
  it('prints the streamed reply and exits 0', async () => {
    const { id } = stub.addSession();
    const c = capture();
    expect(await tower(['send', id, 'hi', 'there'], c)).toBe(0);
    expect(c.stdout()).toBe('Hello from the stub.\n');
    expect(stub.requests.find((r) => r.method === 'POST')?.body).toEqual({ content: 'hi there' });
  });

  it('new creates a session, prints its id on stderr, passes --model and --dir', async () => {
    const c = capture();
    expect(await tower(['send', 'new', 'hi', '--model', 'fake/other', '--dir', 'sub'], c)).toBe(0);
    expect(c.stderr()).toBe('ses_1\n');
    expect(stub.requests[0]?.body).toEqual({ model: 'fake/other', working_dir: '/home/me/project/sub' });
    expect(c.stdout()).toBe('Hello from the stub.\n');
  });

  it('prints tool calls and errors, and exits 1 when the turn ends in error', async () => {
    const { id } = stub.addSession();
    stub.turn = (turnId) => [
      { type: 'stream_started', turn_id: turnId, model: 'fake/model' },
      { type: 'tool_call', tool_call_id: 'c1', tool: 'bash', args: { command: 'ls' } },
      { type: 'tool_call_response', tool_call_id: 'c1', tool: 'bash', result: 'a.txt', is_error: false },
      { type: 'error', code: 'model_http_error', message: 'upstream failed' },
      { type: 'stream_stopped', turn_id: turnId, reason: 'error' },
    ];
    const c = capture();
    expect(await tower(['send', id, 'go'], c)).toBe(1);
    expect(c.stdout()).toBe('⚙ bash ls  ✓ a.txt\nerror: upstream failed (model_http_error)\nstopped: error\n');
  });

  it('--json prints each event of the turn as a JSON line', async () => {
    const { id } = stub.addSession();
    const c = capture();
    expect(await tower(['--json', 'send', id, 'hi'], c)).toBe(0);
    const types = c.stdout().trimEnd().split('\n').map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types).toEqual(['user_message', 'stream_started', 'agent_choice', 'agent_choice', 'stream_stopped']);
  });

  it('rejects --dir for an existing session', async () => {
    const { id } = stub.addSession();
    const c = capture();
    expect(await tower(['send', id, 'hi', '--dir', 'x'], c)).toBe(1);
    expect(c.stderr()).toContain('--dir only applies to a new session');
  });

  it('prints a clear hint when Tower is not running', async () => {
    const url = stub.url;
    await stub.close();
    const c = capture();
    expect(await run(['--url', url, 'send', 'new', 'hi'], c.io)).toBe(1);
    expect(c.stderr()).toBe(
      `error: Tower is not running at ${url} (connection refused)\n` +
        'hint: start it with `npx tower serve` (`npm start` in the Tower project), or point --url / TOWER_URL at a running Tower\n',
    );
    stub = await StubTower.start();
  });

  it('takes the URL and token from the environment', async () => {
    const { id } = stub.addSession();
    const c = capture({ env: { TOWER_URL: stub.url, TOWER_TOKEN: 'tok' } });
    expect(await run(['send', id, 'hi'], c.io)).toBe(0);
  });
});

describe('tower attach', () => {
  it('tails events with user messages, resumes across a drop with no gap, ends on delete', async () => {
    const { id } = stub.addSession();
    stub.turn = textTurn('abcdef');
    stub.dropAfter = (n) => (n === 0 ? 3 : undefined);
    const c = capture();
    const attached = tower(['attach', id, '--since', '0'], c);
    // The attach must hold SSE connection 0 (the one that drops), not the send.
    await waitFor(() => stub.sseConnections > 0);
    const sent = capture();
    await tower(['send', id, 'first'], sent);
    // Delete only once the attach has caught up: a session deleted while it is disconnected is a 404.
    await waitFor(() => c.stdout().includes('abcdef'));
    stub.append(id, { type: 'session_deleted' });
    expect(await attached).toBe(0);
    expect(c.stdout()).toBe('> first\nabcdef\nsession deleted\n');
    expect(c.stderr()).toContain('connection lost; reconnecting');
    expect(c.stderr()).toContain('resuming after event 3');
    // The reconnect is confirmed once the stream is back, with where it resumed.
    expect(c.stderr()).toMatch(/connection lost; reconnecting[^\n]*\nreconnected \(resumed after event 3\)\n/);
  });

  it('exits 0 on Ctrl-C', async () => {
    const { id } = stub.addSession();
    const c = capture();
    const attached = tower(['attach', id], c);
    await waitFor(() => c.stderr().includes('Ctrl-C to detach'));
    c.interrupt();
    expect(await attached).toBe(0);
    expect(c.stderr()).toContain(`attached to ${id} after event 0`);
  });
});

describe('tower main', () => {
  it('runs as a process and exits promptly with the hint when Tower is down', async () => {
    const url = stub.url;
    await stub.close();
    const result = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), '--url', url, 'sessions', 'ls'],
      { env: { ...process.env, NO_COLOR: '1' } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: Tower is not running at ${url} (connection refused)`);
    stub = await StubTower.start();
  });

  it('--help lists the commands', async () => {
    const c = capture();
    expect(await run(['--help'], c.io)).toBe(0);
    for (const name of ['serve', 'sessions', 'send', 'attach']) expect(c.stdout()).toContain(name);
  });

  it('an unknown command exits 1', async () => {
    const c = capture();
    expect(await run(['nope'], c.io)).toBe(1);
    expect(c.stderr()).toContain("unknown command 'nope'");
  });
});
