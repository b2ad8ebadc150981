import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TowerClient } from '../../src/client/index.js';
import { startFakeModelServer } from '../../src/fake-models/index.js';
import { tempDir } from '../support/harness.js';
import { spawnTower, type TowerProcess } from '../support/process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('the environment bash sees', () => {
  it('holds neither TOWER_TOKEN nor provider keys from the server environment', async () => {
    const fake = await startFakeModelServer({
      format: 'openai',
      script: [{ text: 'Looking.', tool_calls: [{ name: 'bash', args: { command: 'env' } }] }, { text: 'Done.' }],
    });
    const dataDir = tempDir('env-data');
    const workDir = tempDir('env-work');
    cleanups.push(() => fake.close());
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    });
    const token = 'tower-token-0123456789abcdef';
    const tower: TowerProcess = await spawnTower({
      fake,
      dataDir,
      workDir,
      config: { permissions: { policy: 'autonomous' }, tool_env: ['PROJECT_FLAVOUR', 'OPENAI_API_KEY'] },
      env: { TOWER_TOKEN: token, OPENAI_API_KEY: 'sk-live-never-in-a-tool', PROJECT_FLAVOUR: 'vanilla' },
    });
    cleanups.push(async () => {
      if (tower.proc.exitCode === null) tower.proc.kill('SIGKILL');
      await tower.exited;
    });
    const client = new TowerClient({ url: tower.url, token });
    const session = await client.createSession();
    const events = [];
    for await (const e of client.sendAndFollow(session.id, 'show me the environment')) events.push(e);
    expect(events.at(-1)).toMatchObject({ type: 'stream_stopped', reason: 'normal' });
    const snap = await client.snapshot(session.id);
    const tool = snap.messages.find((m) => m.message.role === 'tool')?.message;
    const output = JSON.stringify(tool);
    expect(output).toContain('PROJECT_FLAVOUR=vanilla');
    expect(output).not.toContain(token);
    expect(output).not.toContain('sk-live-never-in-a-tool');
    expect(output).not.toMatch(/TOWER_TOKEN|OPENAI_API_KEY/);
  });
});
