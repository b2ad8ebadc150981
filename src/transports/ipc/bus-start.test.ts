import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startBusTower, tempDir, type BusTower } from '../../../test/support/fake-pando-clients.js';
import { silentLogger } from '../../core/logger.js';
import { startFakeModelServer } from '../../fake-models/index.js';
import { derivePorts, fnv32a, goDuration, rfc3339Nano } from '../../protocol/pando-bus.js';
import { resolveConfig, type ServeOptions } from '../../server/config.js';
import { startTower } from '../../server/tower.js';
import { fakeModelsConfig } from '../../../test/support/harness.js';
import { busTransport } from './bus.js';
import { bindHint, BUS_BIND_FAILED } from './bus-recovery.js';
import { busRig } from './testing/bus-rig.js';
import { pino } from 'pino';
import { GoDealer } from '../../../test/support/fake-pando-clients.js';

const rig = busRig();

async function towerWith(opts: ServeOptions) {
  const fake = await startFakeModelServer({ format: 'openai', script: [] });
  rig.cleanup(() => fake.close());
  const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: tempDir('bs-data'), workingDir: tempDir('bs-work'), ...opts }, {});
  const tower = await startTower(config, { models: fakeModelsConfig(fake).config, env: {}, logger: silentLogger, transports: [busTransport({ registryDir: tempDir('bs-reg') })] });
  rig.cleanup(() => tower.close());
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
    rig.cleanup(() => first.close());
    expect(first.bus.pubPort).toBe(derivePorts(first.workDir).pub);
    expect(first.bus.rpcPort).toBe(derivePorts(first.workDir).rpc);
    const second: BusTower = await startBusTower({ workDir: first.workDir, dataDir: tempDir('bs-data2'), derivedPorts: true });
    rig.cleanup(() => second.stop());
    expect(first.bus.primary).toBe(true);
    expect(second.bus.primary).toBe(false);
    expect(second.bus.pubPort).not.toBe(first.bus.pubPort);
    expect(JSON.parse(readFileSync(second.bus.registryFile, 'utf8'))).toMatchObject({ is_primary: false, path: first.workDir });
    expect(JSON.parse(readFileSync(`${first.workDir}/.pando/ipc.lock`, 'utf8'))).toMatchObject({ instance_id: first.bus.instanceId, pid: process.pid });
  });

  it('declines when its ports are taken or it is turned off, and HTTP still serves', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    rig.cleanup(() => new Promise((r) => blocker.close(r)));
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
    rig.cleanup(() => t.close());
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

  it('a port it cannot bind is a loud error with a code, shows as down on /metrics, and is retried until it binds', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    let blocked = true;
    rig.cleanup(() => blocked && new Promise((r) => blocker.close(r)));
    const taken = (blocker.address() as { port: number }).port;

    // Every log line, and a way to wait for the first one that matches (no sleeps: sync on the log).
    const lines: Array<Record<string, unknown>> = [];
    const waiting: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
    const logger = pino({ level: 'info' }, {
      write(text: string) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const w of waiting.splice(0)) (w.match(line) ? w.resolve(line) : waiting.push(w));
      },
    });
    const logged = (match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
      const seen = lines.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    };

    const fake = await startFakeModelServer({ format: 'openai', script: [] });
    rig.cleanup(() => fake.close());
    const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: tempDir('bs-data'), workingDir: tempDir('bs-work'), busPort: taken }, {});
    const tower = await startTower(config, {
      models: fakeModelsConfig(fake).config, env: {}, logger,
      transports: [busTransport({ registryDir: tempDir('bs-reg'), retry: { initialMs: 10, maxMs: 40 } })],
    });
    rig.cleanup(() => tower.close());

    const down = await logged((l) => l.level === 50 && l.code === BUS_BIND_FAILED);
    expect(down).toMatchObject({ transport: 'bus', errno: 'EADDRINUSE', ports: { pub: taken, rpc: taken + 1 } });
    expect(String(down.msg)).toContain(`instance bus DOWN: cannot bind 127.0.0.1: ports ${taken}/${taken + 1} are taken`);
    expect((await fetch(`${tower.url}/health`)).ok).toBe(true);
    expect(await tower.metrics.render()).toContain('tower_transport_up{transport="bus"} 0');
    // Alive (200) but degraded on /health; not ready on /ready, with a code naming the transport.
    const health = await fetch(`${tower.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', degraded: [{ transport: 'bus', code: BUS_BIND_FAILED }] });
    const notReady = await fetch(`${tower.url}/ready`);
    expect(notReady.status).toBe(503);
    const body = (await notReady.json()) as { code: string; reason: string; degraded: unknown[] };
    expect(body).toMatchObject({ ready: false, code: 'transport_down', degraded: [{ transport: 'bus', code: BUS_BIND_FAILED }] });
    expect(body.reason).toContain(`transport bus is down (${BUS_BIND_FAILED}): cannot bind 127.0.0.1: ports ${taken}/${taken + 1} are taken`);
    // It keeps trying, and says so each time.
    await logged((l) => l.level === 40 && l.code === BUS_BIND_FAILED && Number(l.attempts) >= 2);
    expect(await tower.metrics.render()).toContain('tower_transport_up{transport="bus"} 0');

    // The port comes free: the bus binds on its own, on the port it was given, and answers Pando's ping.
    await new Promise((r) => blocker.close(r));
    blocked = false;
    await logged((l) => l.level === 30 && l.msg === 'instance bus listening');
    await logged((l) => l.level === 30 && l.code === BUS_BIND_FAILED && l.msg === 'instance bus up after failing to bind');
    expect(await tower.metrics.render()).toContain('tower_transport_up{transport="bus"} 1');
    const ready = await fetch(`${tower.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await (await fetch(`${tower.url}/health`)).json()).not.toHaveProperty('degraded');
    const d = await GoDealer.connect(`tcp://127.0.0.1:${taken + 1}`);
    rig.cleanup(() => d.close());
    expect(await d.call('instance.ping', {})).toMatchObject({ result: { status: 'ok' } });
  });

  it('says when a derived port lies in the kernel\'s ephemeral range, and how to keep it free', () => {
    expect(bindHint({ pub: 45000, rpc: 45001 }, [32768, 60999])).toBe(
      "ports 45000/45001 are taken (inside the kernel's ephemeral range 32768-60999: an outgoing connection or a socket in TIME-WAIT may hold it; " +
        'reserve them with net.ipv4.ip_local_reserved_ports=45000-45001, or choose --bus-port outside the range)',
    );
    expect(bindHint({ pub: 20000, rpc: 20001 }, [32768, 60999])).toBe('ports 20000/20001 are taken');
  });
});
