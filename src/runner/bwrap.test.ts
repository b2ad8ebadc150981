import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
});
