import { mkdir, symlink, writeFile } from 'node:fs/promises';
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

const list = (args: unknown) => callTool(executor, ws.root, 'list', args);

describe('list', () => {
  it('lists sorted entries, directories with a trailing slash and symlinks with @', async () => {
    await mkdir(path.join(ws.root, 'src'));
    await writeFile(path.join(ws.root, 'b.txt'), '');
    await writeFile(path.join(ws.root, 'A.md'), '');
    await writeFile(path.join(ws.root, 'src/inner.ts'), '');
    await symlink('b.txt', path.join(ws.root, 'link'));
    expect(await list({})).toEqual({ is_error: false, output: 'A.md\nb.txt\nlink@\nsrc/' });
    expect(await list(null)).toEqual({ is_error: false, output: 'A.md\nb.txt\nlink@\nsrc/' });
    expect((await list({ path: 'src' })).output).toBe('inner.ts');
  });

  it('caps the listing with a note', async () => {
    await Promise.all(
      Array.from({ length: LIMITS.listMaxEntries + 5 }, (_, i) =>
        writeFile(path.join(ws.root, `f${String(i).padStart(5, '0')}`), ''),
      ),
    );
    const res = await list({ path: '.' });
    const lines = res.output.split('\n');
    expect(lines.slice(0, LIMITS.listMaxEntries).every((l) => /^f\d{5}$/.test(l))).toBe(true);
    expect(res.output).toContain(`[5 more entries not shown (${LIMITS.listMaxEntries + 5} in total)`);
  });

  it('reports empty directories, files and missing paths', async () => {
    await mkdir(path.join(ws.root, 'empty'));
    await writeFile(path.join(ws.root, 'f.txt'), '');
    expect((await list({ path: 'empty' })).output).toBe('(empty is empty)');
    expect(await list({ path: 'f.txt' })).toMatchObject({ is_error: true, output: expect.stringMatching(/is a file/) });
    expect(await list({ path: 'nope' })).toMatchObject({ is_error: true, output: 'directory not found: nope' });
  });
});
