import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bwrapArgs, probeBwrap } from './bwrap.js';

const bwrapWorks = (await probeBwrap()).ok;

describe('bwrapArgs keep', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp('/tmp/tower-bwrap-keep-');
    await writeFile(path.join(dir, 'script.txt'), 'kept\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('binds kept paths under /tmp read-only after the private /tmp and before the hidden paths', () => {
    const args = bwrapArgs({ root: '/srv/work', network: false, keep: [dir, '/tmp', '/usr/lib', '/tmp/does-not-exist'], hide: [dir] });
    const tmpfs = args.indexOf('/tmp', args.indexOf('--tmpfs'));
    const kept = args.indexOf('--ro-bind', 1);
    expect(args.slice(kept, kept + 3)).toEqual(['--ro-bind', dir, dir]);
    expect(kept).toBeGreaterThan(tmpfs);
    // A hidden path inside a kept one is covered after the bind, so it stays hidden.
    expect(args.lastIndexOf(dir)).toBeGreaterThan(kept + 2);
    expect(args.filter((a) => a === '--ro-bind')).toHaveLength(2);
    expect(args).not.toContain('/usr/lib');
    expect(args).not.toContain('/tmp/does-not-exist');
  });

  it.runIf(bwrapWorks)('makes a file under /tmp readable inside the sandbox only when kept', async () => {
    const cat = (keep: string[]): Promise<string> =>
      new Promise((resolve) => {
        const args = [...bwrapArgs({ root: '/usr', network: false, keep }), '--', 'cat', path.join(dir, 'script.txt')];
        execFile('bwrap', args, { timeout: 10_000 }, (err, stdout) => resolve(err ? 'failed' : stdout));
      });
    expect(await cat([])).toBe('failed');
    expect(await cat([dir])).toBe('kept\n');
  });

  it.runIf(bwrapWorks)('hides a hidden path inside the working directory (a data dir under the served directory)', async () => {
    const root = path.join(dir, 'work');
    await mkdir(path.join(root, '.tower'), { recursive: true });
    await writeFile(path.join(root, '.tower', 'token'), 'secret\n');
    await writeFile(path.join(root, 'visible.txt'), 'visible\n');
    const args = [...bwrapArgs({ root, network: false, hide: [path.join(root, '.tower')] }), '--', 'sh', '-c', 'cat visible.txt; cat .tower/token 2>&1; ls -A .tower | wc -l'];
    const out = await new Promise<string>((resolve) => execFile('bwrap', args, { timeout: 10_000 }, (_err, stdout) => resolve(stdout)));
    expect(out).toMatch(/^visible\n/);
    expect(out).not.toContain('secret');
    expect(out.trim().endsWith('0')).toBe(true);
  });
});
