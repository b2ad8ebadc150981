import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TowerClient } from '../../src/client/index.js';
import { startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';
import { tempDir } from '../support/harness.js';
import { runToEnd, spawnCli, spawnTower, type TowerProcess } from '../support/process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(script: Parameters<typeof startFakeModelServer>[0]['script']) {
  const fake = await startFakeModelServer({ format: 'openai', script });
  const dataDir = tempDir('proc-data');
  const workDir = tempDir('proc-work');
  cleanups.push(() => fake.close());
  cleanups.push(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });
  return { fake, dataDir, workDir };
}

async function start(fake: FakeModelServer, dataDir: string, workDir: string, port?: number): Promise<TowerProcess> {
  const p = await spawnTower({ fake, dataDir, workDir, ...(port ? { port } : {}) });
  cleanups.push(async () => {
    if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    await p.exited;
  });
  return p;
}

describe('a Tower process killed mid-turn', () => {
  it('closes the turn as server_restart at the next start and keeps the conversation valid', async () => {
    const { fake, dataDir, workDir } = await setup([
      { text: 'Running it.', tool_calls: [{ name: 'bash', args: { command: 'sleep 4' } }], usage: { input_tokens: 5, output_tokens: 5 } },
      { text: 'All good after the restart.' },
    ]);
    const first = await start(fake, dataDir, workDir);
    const client = new TowerClient({ url: first.url });
    const session = await client.createSession();
    await client.send(session.id, 'run a slow command');
    // Wait until the bash call is running, then kill Tower without any chance to clean up.
    for (let i = 0; i < 200; i++) {
      const snap = await client.snapshot(session.id);
      if (snap.messages.some((m) => m.message.role === 'assistant')) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    first.proc.kill('SIGKILL');
    await first.exited;

    const second = await start(fake, dataDir, workDir);
    const client2 = new TowerClient({ url: second.url });
    const snap = await client2.snapshot(session.id);
    expect(snap.streaming).toBe(false);
    const roles = snap.messages.map((m) => m.message.role);
    expect(roles).toEqual(['user', 'assistant', 'tool']);
    expect(snap.messages[2]?.message).toMatchObject({ role: 'tool', is_error: true });

    const events: Array<{ type: string; reason?: unknown }> = [];
    for await (const e of client2.events(session.id, { since: 0 })) {
      events.push(e as { type: string });
      if (e.type === 'stream_stopped') break;
    }
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'server_restart' });

    // The session takes the next message, and the model sees a valid conversation (a result per call).
    const turn = [];
    for await (const e of client2.sendAndFollow(session.id, 'carry on')) turn.push(e);
    expect(turn.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
    const lastRequest = JSON.stringify(fake.requests.at(-1));
    expect(lastRequest).toContain('interrupted');
  });
});

describe('tower send', () => {
  it('prints the streamed reply from a live server and exits 0', async () => {
    const { fake, dataDir, workDir } = await setup([
      { text: 'Listing files.', tool_calls: [{ name: 'list', args: { path: '.' } }] },
      { text: 'There is nothing here yet.', tokensPerSecond: 100 },
    ]);
    const tower = await start(fake, dataDir, workDir);
    const result = await runToEnd(spawnCli(['send', 'new', 'what is in this folder?', '--url', tower.url]));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Listing files.');
    expect(result.stdout).toContain('There is nothing here yet.');
    expect(result.stdout).toMatch(/list/);
  });

  it('`--json` prints one event per line, ending with stream_stopped', async () => {
    const { fake, dataDir, workDir } = await setup([{ text: 'json please' }]);
    const tower = await start(fake, dataDir, workDir);
    const result = await runToEnd(spawnCli(['send', 'new', 'hi', '--json', '--url', tower.url]));
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]?.type).toBe('user_message');
    expect(lines.at(-1)?.type).toBe('stream_stopped');
  });
});

describe('tower serve --demo', () => {
  it('runs a full demo turn with no provider configured', async () => {
    const dataDir = tempDir('demo-data');
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const proc = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--demo']);
    let out = '';
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => proc.once('exit', r));
    cleanups.push(async () => {
      proc.kill('SIGTERM');
      await exited;
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(out)), 20_000);
      proc.stderr?.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    expect(out).toContain('demo');
    const client = new TowerClient({ url });
    const session = await client.createSession();
    expect(session.model).toBe('demo/scripted');
    const types: string[] = [];
    for await (const e of client.sendAndFollow(session.id, 'hello tower')) types.push(e.type);
    expect(types).toContain('tool_call');
    expect(types).toContain('tool_call_response');
    expect(types.filter((x) => x === 'agent_choice').length).toBeGreaterThan(3);
    expect(types.at(-1)).toBe('stream_stopped');
  });
});
