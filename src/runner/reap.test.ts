import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait.js';
import { MARKER_VAR, findTree, readProcInfo } from './executor/process-group.js';
import { createProcessRegistry, procsDir, readProcessRecords } from './process-registry.js';
import { reapOrphanedCommands } from './reap.js';

const logger = { info: () => undefined, warn: () => undefined };
let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'tower-reap-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('file process registry', () => {
  it('stores records as private files and forgets them', async () => {
    const registry = createProcessRegistry(dataDir);
    const id = randomUUID();
    await registry.put({ id, command: 'sleep 1', working_dir: '/w', started_at: new Date().toISOString() });
    expect((await stat(procsDir(dataDir))).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(procsDir(dataDir), `${id}.json`))).mode & 0o777).toBe(0o600);
    expect(await readProcessRecords(dataDir)).toMatchObject([{ record: { id, command: 'sleep 1' } }]);
    await registry.remove(id);
    await registry.remove(id); // twice is fine
    expect(await readProcessRecords(dataDir)).toEqual([]);
  });

  it('refuses a record with an id that is not a safe file name', async () => {
    const registry = createProcessRegistry(dataDir);
    await expect(registry.put({ id: '../../etc/x', command: '', working_dir: '/', started_at: '' })).rejects.toThrow();
  });
});

describe('reapOrphanedCommands', () => {
  it('removes junk records without killing anything', async () => {
    await mkdir(procsDir(dataDir), { recursive: true });
    await writeFile(path.join(procsDir(dataDir), 'a.json'), '{not json');
    await writeFile(path.join(procsDir(dataDir), 'b.json'), JSON.stringify({ id: 'x', pid: -4 }));
    await writeFile(path.join(procsDir(dataDir), 'c.json'), JSON.stringify({ id: 12, command: [] }));
    const warnings: unknown[] = [];
    const result = await reapOrphanedCommands(dataDir, { info: () => undefined, warn: (o) => warnings.push(o) });
    expect(result).toEqual({ killed: 0 });
    expect(warnings).toHaveLength(3);
    expect(await readdir(procsDir(dataDir))).toEqual([]);
  });

  it('does nothing when there is no registry yet', async () => {
    expect(await reapOrphanedCommands(path.join(dataDir, 'missing'), logger)).toEqual({ killed: 0 });
  });

  it('kills a recorded tree, including a setsid escapee, by marker and verified group', async () => {
    const id = randomUUID();
    const child = spawn('bash', ['-c', '(setsid sleep 302 > /dev/null 2>&1 &); echo up; sleep 302'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { PATH: process.env.PATH ?? '', [MARKER_VAR]: id },
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const pid = child.pid ?? 0;
    const startTicks = (await readProcInfo(pid))?.startTicks ?? 0;
    await createProcessRegistry(dataDir).put({ id, command: 'x', working_dir: '/', started_at: '', pid, start_ticks: startTicks });
    const tree = { pgid: pid, startTicks, marker: id };
    // bash (exec'd into its last sleep) and the re-parented setsid sleep in its own session
    await waitFor(async () => (await findTree(tree)).length >= 2);

    const result = await reapOrphanedCommands(dataDir, logger);
    expect(result.killed).toBeGreaterThanOrEqual(2);
    expect(await findTree(tree)).toEqual([]);
    expect(await readProcessRecords(dataDir)).toEqual([]);
  });

  it('never kills a process whose pid matches a record but whose start time does not (pid reuse)', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pid = child.pid ?? 0;
    try {
      const real = (await readProcInfo(pid))?.startTicks ?? 0;
      await createProcessRegistry(dataDir).put({
        id: randomUUID(),
        command: 'old',
        working_dir: '/',
        started_at: '',
        pid,
        start_ticks: Math.max(0, real - 1000),
      });
      await reapOrphanedCommands(dataDir, logger);
      expect((await readProcInfo(pid))?.state).not.toBe('Z');
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
