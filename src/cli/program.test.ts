import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finish, usage } from '../core/testing/fakes.js';
import { startRealTower, type RealTower } from '../client/testing/real-tower.js';
import { StubTower, textTurn } from '../client/testing/stub-tower.js';
import { run } from './program.js';
import { capture, waitFor } from './testing/capture.js';

// sessions and send against the real HTTP app; attach's dropped connection (cut mid-frame) and the
// server side of `import --as-new` (another branch) against the stub.
let t: RealTower;

function real(args: string[], captured = capture()): Promise<number> {
  return run(['--url', t.url, '--token', 'tok', ...args], captured.io);
}

async function sessionWithTurn(title: string): Promise<string> {
  const { id } = await t.client.createSession({ title });
  for await (const event of t.client.sendAndFollow(id, 'hello')) void event;
  return id;
}

describe('against the real app', () => {
  beforeEach(async () => {
    t = await startRealTower({ token: 'tok' });
  });
  afterEach(async () => {
    await t.close();
  });

  describe('tower sessions', () => {
    it('ls --json prints the session list as one JSON document', async () => {
      await t.client.createSession({ title: 'alpha' });
      await t.client.createSession({ title: 'beta' });
      const c = capture();
      expect(await real(['sessions', 'ls', '--json'], c)).toBe(0);
      const list = JSON.parse(c.stdout()) as { items: Array<{ title: string }> };
      expect(list.items.map((s) => s.title)).toEqual(['beta', 'alpha']);
    });

    it('ls prints a table', async () => {
      const id = await sessionWithTurn('alpha');
      const c = capture();
      expect(await real(['sessions', 'ls', '--limit', '5'], c)).toBe(0);
      const [header, row] = c.stdout().split('\n');
      expect(header?.split(/\s+/)).toEqual(['ID', 'TITLE', 'MODEL', 'MESSAGES', 'TOKENS', 'UPDATED']);
      expect(row?.split(/\s{2,}/).slice(0, 5)).toEqual([id, 'alpha', 'fake/m', '2', '15']);
      expect(t.requests.at(-1)?.query.get('limit')).toBe('5');
    });

    it('show prints fields and the conversation', async () => {
      const id = await sessionWithTurn('chat');
      const c = capture();
      expect(await real(['sessions', 'show', id], c)).toBe(0);
      expect(c.stdout()).toContain('title     chat\n');
      expect(c.stdout()).toContain('> hello\nhello\n');
    });

    it('rm deletes one or many sessions', async () => {
      const a = await t.client.createSession();
      const b = await t.client.createSession();
      const missing = '0b7e2a52-9a53-4c43-9d0f-5a3b0b4c9d21';
      const c = capture();
      expect(await real(['sessions', 'rm', a.id, b.id, missing], c)).toBe(1);
      expect(c.stdout()).toBe('deleted 2 sessions\n');
      expect(c.stderr()).toBe(`error: could not delete ${missing}\n`);
    });

    it('export -o then import: a conflict on the same server, restored once the original is gone', async () => {
      const { id } = await t.client.createSession({ title: 'keep me' });
      const dir = await mkdtemp(join(tmpdir(), 'tower-cli-'));
      try {
        const file = join(dir, 'export.json');
        expect(await real(['sessions', 'export', id, '-o', file])).toBe(0);
        expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, session: { id, title: 'keep me' } });
        const conflict = capture();
        expect(await real(['sessions', 'import', file], conflict)).toBe(1);
        expect(conflict.stderr()).toContain('(conflict)');
        await t.client.deleteSession(id);
        const c = capture();
        expect(await real(['sessions', 'import', file], c)).toBe(0);
        expect(c.stdout()).toBe(`${id}\n`);
        expect((await t.client.getSession(id)).title).toBe('keep me');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('import rejects a file that is not an export before calling the server', async () => {
      const c = capture({ stdin: '{"version":2}' });
      expect(await real(['sessions', 'import', '-'], c)).toBe(1);
      expect(c.stderr()).toMatch(/^error: not a session export at version/);
      expect(t.requests).toHaveLength(0);
    });

    it('reports an API error with its code', async () => {
      const c = capture();
      expect(await real(['sessions', 'show', '0b7e2a52-9a53-4c43-9d0f-5a3b0b4c9d21'], c)).toBe(1);
      expect(c.stderr()).toMatch(/^error: .+ \(unknown_session\)\n$/);
    });

    it('hints at the token on 401', async () => {
      const c = capture();
      expect(await run(['--url', t.url, 'sessions', 'ls'], c.io)).toBe(1);
      expect(c.stderr()).toContain('(unauthorized)\nhint: pass the server token with --token or TOWER_TOKEN\n');
    });
  });

  describe('tower send', () => {
    it('prints the streamed reply and exits 0', async () => {
      const { id } = await t.client.createSession();
      const c = capture();
      expect(await real(['send', id, 'hi', 'there'], c)).toBe(0);
      expect(c.stdout()).toBe('hello\n');
      expect(t.requests.find((r) => r.method === 'POST' && r.path.endsWith('/messages'))?.body).toEqual({ content: 'hi there' });
    });

    it('new creates a session, prints its id on stderr, passes --model and --dir', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tower-cli-dir-'));
      const c = capture();
      expect(await real(['send', 'new', 'hi', '--model', 'fake/other', '--dir', dir], c)).toBe(0);
      await rm(dir, { recursive: true, force: true });
      const [session] = (await t.client.listSessions()).items;
      expect(c.stderr()).toBe(`${session?.id}\n`);
      expect(session).toMatchObject({ model: 'fake/other', working_dir: dir });
      expect(c.stdout()).toBe('hello\n');
    });

    it('prints tool calls and errors, and exits 1 when the turn ends in error', async () => {
      const { id } = await t.client.createSession({ permissions: { policy: 'autonomous' } });
      t.steps = (req) =>
        req.messages.at(-1)?.role === 'tool'
          ? [{ type: 'error', code: 'model_http_error', message: 'upstream failed' }]
          : [{ type: 'tool_call', id: 'c1', name: 'echo', args: { text: 'ls' } }, { type: 'finish', usage, finish_reason: 'tool_calls' }];
      const c = capture();
      expect(await real(['send', id, 'go'], c)).toBe(1);
      expect(c.stdout()).toBe('⚙ echo ls  ✓ ran {"text":"ls"}\nerror: upstream failed (model_http_error)\nstopped: error\n');
    });

    it('--json prints each event of the turn as a JSON line', async () => {
      const { id } = await t.client.createSession();
      t.steps = () => [{ type: 'text', delta: 'hel' }, { type: 'text', delta: 'lo' }, finish];
      const c = capture();
      expect(await real(['--json', 'send', id, 'hi'], c)).toBe(0);
      const types = c.stdout().trimEnd().split('\n').map((line) => (JSON.parse(line) as { type: string }).type);
      expect(types).toEqual(['user_message', 'stream_started', 'agent_choice', 'agent_choice', 'token_usage', 'stream_stopped']);
    });

    it('rejects --dir for an existing session', async () => {
      const { id } = await t.client.createSession();
      const c = capture();
      expect(await real(['send', id, 'hi', '--dir', 'x'], c)).toBe(1);
      expect(c.stderr()).toContain('--dir only applies to a new session');
    });

    it('takes the URL and token from the environment', async () => {
      const { id } = await t.client.createSession();
      const c = capture({ env: { TOWER_URL: t.url, TOWER_TOKEN: 'tok' } });
      expect(await run(['send', id, 'hi'], c.io)).toBe(0);
    });
  });
});

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

describe('tower sessions import --as-new (stub: the server side comes from another branch)', () => {
  it('imports under a new id where a plain import is a conflict', async () => {
    const { id } = stub.addSession({ title: 'keep me' });
    const dir = await mkdtemp(join(tmpdir(), 'tower-cli-'));
    try {
      const file = join(dir, 'export.json');
      expect(await tower(['sessions', 'export', id, '-o', file])).toBe(0);
      expect(await tower(['sessions', 'import', file], capture())).toBe(1);
      const c = capture();
      expect(await tower(['sessions', 'import', '--as-new', file], c)).toBe(0);
      expect(c.stdout()).toMatch(/^ses_\d+\n$/);
      expect(c.stdout()).not.toBe(`${id}\n`);
      expect(stub.requests.at(-1)?.query.get('as_new')).toBe('true');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tower send when Tower is down', () => {
  it('prints a clear hint', async () => {
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
