import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';
import { redactUrl, resolveRunnerConfig, RUNNER_DEFAULTS } from './config.js';

describe('resolveRunnerConfig', () => {
  it('takes flags over environment over the config file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tower-rcfg-'));
    const file = path.join(dir, 'r.json');
    await writeFile(file, JSON.stringify({ url: 'ws://file/runners/ws', token: 'file-token', name: 'file-name', labels: ['f'], deny: ['rm'], heartbeat_ms: 1000 }));
    const fromFile = await resolveRunnerConfig({ config: file }, {}, dir, 'host');
    expect(fromFile).toMatchObject({ url: 'ws://file/runners/ws', token: 'file-token', name: 'file-name', labels: ['f'], deny: ['rm'], allow: [], workspace: dir, allowPrivateNet: false, sandbox: 'auto', network: false, toolEnv: [], heartbeatMs: 1000, reconnectMinMs: RUNNER_DEFAULTS.reconnectMinMs, reconnectMaxMs: RUNNER_DEFAULTS.reconnectMaxMs });
    const env = { TOWER_RUNNER_CONFIG: file, TOWER_RUNNER_TOKEN: 'env-token', TOWER_RUNNER_LABELS: 'a, b', TOWER_RUNNER_DENY: 'rm\ngit push, --force', TOWER_RUNNER_ALLOW_PRIVATE_NET: '1', TOWER_RUNNER_WORKSPACE: 'w' };
    expect(await resolveRunnerConfig({}, env, dir, 'host')).toMatchObject({ token: 'env-token', labels: ['a', 'b'], deny: ['rm', 'git push, --force'], allowPrivateNet: true, workspace: path.join(dir, 'w') });
    expect(await resolveRunnerConfig({ token: 'flag', labels: 'x', name: 'n', allowPrivateNet: false }, env, dir, 'host')).toMatchObject({ token: 'flag', labels: ['x'], name: 'n', allowPrivateNet: false });
  });

  it('defaults the name to the hostname and refuses missing or bad settings', async () => {
    expect((await resolveRunnerConfig({ url: 'ws://h/runners/ws', token: 't' }, {}, '/', 'my-host')).name).toBe('my-host');
    await expect(resolveRunnerConfig({ token: 't' }, {}, '/', 'h')).rejects.toThrow(/needs --url/);
    await expect(resolveRunnerConfig({ url: 'ws://h' }, {}, '/', 'h')).rejects.toThrow(/needs --token/);
    await expect(resolveRunnerConfig({ url: 'http://h', token: 't' }, {}, '/', 'h')).rejects.toThrow(/ws:\/\/ or wss:\/\//);
    const dir = await mkdtemp(path.join(tmpdir(), 'tower-rcfg-'));
    await writeFile(path.join(dir, 'bad.json'), '{"url": 5}');
    await expect(resolveRunnerConfig({ config: 'bad.json' }, {}, dir, 'h')).rejects.toThrow(/invalid runner config file .*url/);
    await writeFile(path.join(dir, 'junk.json'), 'nope');
    await expect(resolveRunnerConfig({ config: 'junk.json' }, {}, dir, 'h')).rejects.toThrow(/not JSON/);
    await writeFile(path.join(dir, 'extra.json'), '{"tokn": "x"}');
    await expect(resolveRunnerConfig({ config: 'extra.json' }, {}, dir, 'h')).rejects.toThrow(/tokn|Unrecognized/);
  });

  it('redacts the token from a URL', () => {
    expect(redactUrl('ws://u:p@h:1/runners/ws?token=secret')).toBe('ws://h:1/runners/ws');
  });
});

describe('Backoff', () => {
  it('doubles from the minimum to the maximum with jitter in [step/2, step], and resets', () => {
    const low = new Backoff(1000, 300_000, () => 0);
    const high = new Backoff(1000, 300_000, () => 1);
    const lows = Array.from({ length: 12 }, () => low.next());
    const highs = Array.from({ length: 12 }, () => high.next());
    expect(highs.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(lows.slice(0, 3)).toEqual([500, 1000, 2000]);
    expect(highs.at(-1)).toBe(300_000);
    expect(lows.at(-1)).toBe(150_000);
    high.reset();
    expect(high.next()).toBe(1000);
  });
});
