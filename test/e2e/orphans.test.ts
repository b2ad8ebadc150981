import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TowerClient } from '../../src/client/index.js';
import { startFakeModelServer } from '../../src/fake-models/index.js';
import { findTree } from '../../src/runner/executor/process-group.js';
import { ProcessRecord } from '../../src/runner/process-registry.js';
import { tempDir } from '../support/harness.js';
import { spawnTower, type TowerProcess } from '../support/process.js';
import { waitFor } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function runningRecord(dataDir: string): ProcessRecord | undefined {
  const dir = path.join(dataDir, 'procs');
  if (!existsSync(dir)) return undefined;
  // Only whole records: a `.json.tmp` may be caught half-written (the registry renames it into place).
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const record = ProcessRecord.parse(JSON.parse(readFileSync(path.join(dir, name), 'utf8')));
    if (record.pid !== undefined) return record;
  }
  return undefined;
}

describe('a bash command when Tower is killed with SIGKILL', () => {
  // none: the reaper's test (re-parented orphans survive the server). bwrap: the sandbox's pid namespace
  // and --die-with-parent end them with the server; the reaper then finds nothing left.
  it.each(['none', 'bwrap'] as const)('is killed by the next start at the latest (sandbox %s), so its side effect never happens', async (sandbox) => {
    const fake = await startFakeModelServer({
      format: 'openai',
      script: [
        { text: 'Running it.', tool_calls: [{ name: 'bash', args: { command: '(setsid sleep 47 > /dev/null 2>&1 &); sleep 47; echo X > after.txt' } }] },
        { text: 'Done.' },
      ],
    });
    const dataDir = tempDir('orphan-data');
    const workDir = tempDir('orphan-work');
    const procs: TowerProcess[] = [];
    cleanups.push(() => fake.close());
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    });
    cleanups.push(async () => {
      for (const p of procs) {
        if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
        await p.exited;
      }
    });
    const start = async (): Promise<TowerProcess> => {
      const p = await spawnTower({ fake, dataDir, workDir, config: { sandbox, permissions: { policy: 'autonomous' } } });
      procs.push(p);
      return p;
    };

    const first = await start();
    const client = new TowerClient({ url: first.url });
    const session = await client.createSession();
    await client.send(session.id, 'run a slow command');
    await waitFor(() => runningRecord(dataDir) !== undefined, 20_000);
    const record = runningRecord(dataDir);
    if (record === undefined) throw new Error('no record');
    const tree = { pgid: record.pid ?? 0, startTicks: record.start_ticks ?? 0, marker: record.id };
    await waitFor(async () => (await findTree(tree)).length >= 2); // bash and the setsid escapee

    first.proc.kill('SIGKILL');
    await first.exited;
    if (sandbox === 'none') {
      // The orphans outlived the server (re-parented): this is what the next start must clean up.
      expect((await findTree(tree)).length).toBeGreaterThanOrEqual(2);
    }

    const second = await start();
    expect(await findTree(tree)).toEqual([]);
    expect(readdirSync(path.join(dataDir, 'procs'))).toEqual([]);
    const snap = await new TowerClient({ url: second.url }).snapshot(session.id);
    expect(snap.messages.at(-1)?.message).toMatchObject({ role: 'tool', is_error: true });
    expect(existsSync(path.join(workDir, 'after.txt'))).toBe(false);
  });
});
