import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverInstances } from '../../src/client/remote/index.js';
import { GoSub, freePortPair, tempDir } from '../support/fake-pando-clients.js';
import { spawnCli, type TowerProcess } from '../support/process.js';
import { waitFor } from '../support/wait.js';

const dirs: string[] = [];
const procs: TowerProcess['proc'][] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(registryDir: string, workDir: string) {
  const dataDir = tempDir('busproc-data');
  dirs.push(dataDir);
  // A free pair, not the derived ports: those sit in the ephemeral range and are sometimes taken here.
  const busPort = await freePortPair();
  const proc = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--demo', '--bus-port', String(busPort)], { TOWER_WORKING_DIR: workDir, TOWER_PANDO_REGISTRY_DIR: registryDir, TOWER_LOG_LEVEL: 'info' });
  procs.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await waitFor(() => out.includes('instance bus listening') && out.includes('listening on'), 30_000);
  const [entry] = discoverInstances({ dir: registryDir });
  if (!entry) throw new Error(`no registry entry:\n${out}`);
  return { proc, entry, exited, out: () => out };
}

describe('tower serve with the instance bus, as a real process', () => {
  it('beats every 5 s with one id, sends one instance.shutdown on SIGTERM and leaves no registry file or lock', async () => {
    const registryDir = tempDir('busproc-reg');
    const workDir = tempDir('busproc-work');
    dirs.push(registryDir, workDir);
    const t = await serve(registryDir, workDir);
    expect(t.entry).toMatchObject({ pid: t.proc.pid, path: workDir, mode: 'tower', is_primary: true });
    expect(existsSync(path.join(workDir, '.pando', 'ipc.lock'))).toBe(true);
    const sub = GoSub.connect(t.entry.pubEndpoint);
    try {
      await sub.until((all) => all.filter((p) => p.topic === 'instance.heartbeat').length >= 2, 20_000, 'two heartbeats');
      const beats = sub.of('instance.heartbeat');
      expect(new Set(beats.map((b) => b.envelope.instanceId))).toEqual(new Set([t.entry.instance_id]));
      expect(new Set(beats.map((b) => b.envelope.payload.instance_id))).toEqual(new Set([t.entry.instance_id]));
      // The cadence itself, measured by the subscriber's clock on the envelopes' timestamps.
      const times = beats.map((b) => Date.parse(b.envelope.timestamp));
      for (let i = 1; i < times.length; i++) expect(Math.abs(times[i]! - times[i - 1]! - 5000)).toBeLessThanOrEqual(500);

      t.proc.kill('SIGTERM');
      expect(await t.exited).toBe(0);
      await sub.until((all) => all.some((p) => p.topic === 'instance.shutdown'), 10_000, 'instance.shutdown');
      expect(sub.of('instance.shutdown').map((p) => p.envelope.payload)).toEqual([{ instance_id: t.entry.instance_id, reason: 'shutdown' }]);
    } finally {
      await sub.close();
    }
    expect(existsSync(t.entry.file)).toBe(false);
    expect(existsSync(path.join(workDir, '.pando', 'ipc.lock'))).toBe(false);
  }, 40_000);

  it('after a SIGKILL the next reader prunes the registry entry', async () => {
    const registryDir = tempDir('busproc-reg');
    const workDir = tempDir('busproc-work');
    dirs.push(registryDir, workDir);
    const t = await serve(registryDir, workDir);
    t.proc.kill('SIGKILL');
    await t.exited;
    expect(existsSync(t.entry.file)).toBe(true);
    expect(discoverInstances({ dir: registryDir })).toEqual([]);
    expect(existsSync(t.entry.file)).toBe(false);
  }, 40_000);
});
