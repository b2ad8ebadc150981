import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from '../executor.js';
import { LIMITS } from '../limits.js';
import { callTool, makeWorkspace, type Workspace } from '../test-support.js';

const executor = createLocalExecutor();
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const glob = (args: unknown) => callTool(executor, ws.root, 'glob', args);

async function put(rel: string, mtimeSec = 1_700_000_000): Promise<void> {
  const file = path.join(ws.root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, rel);
  await utimes(file, mtimeSec, mtimeSec);
}

describe('glob', () => {
  it('matches relative paths, newest first, ties by name', async () => {
    await put('src/old.ts', 1_600_000_000);
    await put('src/new.ts', 1_700_000_000);
    await put('src/deep/a.ts', 1_650_000_000);
    await put('src/deep/b.ts', 1_650_000_000);
    await put('src/readme.md');
    await put('top.ts', 1_500_000_000);
    const res = await glob({ pattern: '**/*.ts' });
    expect(res).toEqual({ is_error: false, output: 'src/new.ts\nsrc/deep/a.ts\nsrc/deep/b.ts\nsrc/old.ts\ntop.ts' });
  });

  it('keeps single-star patterns to one directory and resolves them against path', async () => {
    await put('top.ts');
    await put('src/a.ts');
    await put('src/deep/b.ts');
    expect((await glob({ pattern: '*.ts' })).output).toBe('top.ts');
    expect((await glob({ pattern: '*.ts', path: 'src' })).output).toBe('src/a.ts');
    expect((await glob({ pattern: 'src/*.ts' })).output).toBe('src/a.ts');
    expect((await glob({ pattern: './src/deep/b.ts' })).output).toBe('src/deep/b.ts');
  });

  it('includes dotfiles but skips .git, node_modules and .tower unless path points there', async () => {
    await put('.github/ci.yml');
    await put('.git/config.yml');
    await put('node_modules/pkg/index.yml');
    await put('.tower/outputs/x.yml');
    await put('pkg/node_modules/dep/x.yml');
    expect((await glob({ pattern: '**/*.yml' })).output).toBe('.github/ci.yml');
    expect((await glob({ pattern: '**/*.yml', path: 'node_modules' })).output).toBe('node_modules/pkg/index.yml');
  });

  it('lists symlinks without following them', async () => {
    await mkdir(path.join(ws.outside, 'secret'), { recursive: true });
    await writeFile(path.join(ws.outside, 'secret/key.txt'), 'k');
    await symlink(path.join(ws.outside, 'secret'), path.join(ws.root, 'escape'));
    await put('a.txt');
    expect((await glob({ pattern: '**/*.txt' })).output).toBe('a.txt');
    expect((await glob({ pattern: '*' })).output.split('\n').sort()).toEqual(['a.txt', 'escape']);
  });

  it('caps results with a note', async () => {
    await Promise.all(Array.from({ length: LIMITS.globMaxResults + 3 }, (_, i) => put(`many/f${i}.txt`)));
    const res = await glob({ pattern: 'many/*.txt' });
    expect(res.output.split('\n').filter((l) => l.startsWith('many/'))).toHaveLength(LIMITS.globMaxResults);
    expect(res.output).toContain(`[3 more files not shown (${LIMITS.globMaxResults + 3} matched)`);
  });

  it('says when nothing matches and refuses absolute or escaping patterns', async () => {
    expect(await glob({ pattern: '**/*.nothing' })).toEqual({ is_error: false, output: 'no files match **/*.nothing' });
    expect(await glob({ pattern: 'missing-dir/*.ts' })).toEqual({ is_error: false, output: 'no files match missing-dir/*.ts' });
    expect((await glob({ pattern: '/etc/*' })).is_error).toBe(true);
    expect(await glob({ pattern: '../root-evil/*' })).toMatchObject({ is_error: true, output: expect.stringMatching(/outside the working directory/) });
  });
});
