import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startBusTower, tempDir, type BusTower } from '../../../test/support/fake-pando-clients.js';
import { silentLogger } from '../../core/logger.js';
import { startFakeModelServer } from '../../fake-models/index.js';
import { derivePorts, fnv32a, goDuration, rfc3339Nano } from '../../protocol/pando-bus.js';
import { resolveConfig, type ServeOptions } from '../../server/config.js';
import { startTower } from '../../server/tower.js';
import { fakeModelsConfig } from '../../../test/support/harness.js';
import { busTransport } from './bus.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function towerWith(opts: ServeOptions) {
  const fake = await startFakeModelServer({ format: 'openai', script: [] });
  cleanups.push(() => fake.close());
  const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: tempDir('bs-data'), workingDir: tempDir('bs-work'), ...opts }, {});
  const tower = await startTower(config, { models: fakeModelsConfig(fake).config, env: {}, logger: silentLogger, transports: [busTransport({ registryDir: tempDir('bs-reg') })] });
  cleanups.push(() => tower.close());
  return tower;
}

describe('starting the bus', () => {
  it('derives ports as Pando does and prints durations and timestamps as Go does', () => {
    expect(fnv32a('')).toBe(0x811c9dc5);
    expect(fnv32a('a')).toBe(0xe40c292c);
    expect(fnv32a('foobar')).toBe(0xbf9cf968);
    const { pub, rpc } = derivePorts('/home/me/project');
    expect(pub).toBe(40000 + (fnv32a('/home/me/project') % 20000));
    expect(rpc).toBe(pub + 1);
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(350)).toBe('350ms');
    expect(goDuration(5200)).toBe('5.2s');
    expect(goDuration(90 * 60_000)).toBe('1h30m0s');
    expect(goDuration(61_500)).toBe('1m1.5s');
    expect(rfc3339Nano(new Date('2026-01-02T03:04:05.120Z'))).toBe('2026-01-02T03:04:05.12Z');
    expect(rfc3339Nano(new Date('2026-01-02T03:04:05.000Z'))).toBe('2026-01-02T03:04:05Z');
  });

  it('a second instance in the same directory is not primary and says so in its registry entry', async () => {
    const first: BusTower = await startBusTower({ derivedPorts: true });
    cleanups.push(() => first.close());
    expect(first.bus.pubPort).toBe(derivePorts(first.workDir).pub);
    expect(first.bus.rpcPort).toBe(derivePorts(first.workDir).rpc);
    const second: BusTower = await startBusTower({ workDir: first.workDir, dataDir: tempDir('bs-data2'), derivedPorts: true });
    cleanups.push(() => second.stop());
    expect(first.bus.primary).toBe(true);
    expect(second.bus.primary).toBe(false);
    expect(second.bus.pubPort).not.toBe(first.bus.pubPort);
    expect(JSON.parse(readFileSync(second.bus.registryFile, 'utf8'))).toMatchObject({ is_primary: false, path: first.workDir });
    expect(JSON.parse(readFileSync(`${first.workDir}/.pando/ipc.lock`, 'utf8'))).toMatchObject({ instance_id: first.bus.instanceId, pid: process.pid });
  });

  it('declines when its ports are taken or it is turned off, and HTTP still serves', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const taken = (blocker.address() as { port: number }).port;
    const tower = await towerWith({ busPort: taken });
    expect((await fetch(`${tower.url}/health`)).ok).toBe(true);
    const off = await towerWith({ bus: false });
    expect((await fetch(`${off.url}/health`)).ok).toBe(true);
  });

  it('prunes registry entries of dead processes when it starts, and keeps live ones', async () => {
    const registryDir = tempDir('bs-prune');
    const entry = (pid: number) => JSON.stringify({ instance_id: `i${pid}`, path: '/x', pid, pub_port: 1, rpc_port: 2, started_at: '', mode: 'tui', is_primary: true });
    writeFileSync(`${registryDir}/dead.json`, entry(2 ** 22 + 11));
    writeFileSync(`${registryDir}/alive.json`, entry(process.pid));
    const t = await startBusTower({ registryDir });
    cleanups.push(() => t.close());
    expect(existsSync(`${registryDir}/dead.json`)).toBe(false);
    expect(existsSync(`${registryDir}/alive.json`)).toBe(true);
    expect(existsSync(t.bus.registryFile)).toBe(true);
  });

  it('reads the bus flags', () => {
    expect(resolveConfig({}, {}).bus).toEqual({ enabled: true, host: '127.0.0.1' });
    expect(resolveConfig({ bus: false, busPort: 45000, busHost: '0.0.0.0' }, {}).bus).toEqual({ enabled: false, host: '0.0.0.0', port: 45000 });
    expect(resolveConfig({}, { TOWER_BUS: '0', TOWER_BUS_PORT: '41000' }).bus).toEqual({ enabled: false, host: '127.0.0.1', port: 41000 });
    expect(() => resolveConfig({ busPort: 65535 }, {})).toThrow(/bus port/);
    expect(() => resolveConfig({}, { TOWER_BUS_PORT: 'abc' })).toThrow(/port/);
  });
});
