import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from '../executor.js';
import { callTool, makeWorkspace, type Workspace } from '../test-support.js';

const executor = createLocalExecutor();
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const write = (args: unknown) => callTool(executor, ws.root, 'write', args);

describe('write', () => {
  it('creates the file and missing parent directories, reporting bytes written', async () => {
    const res = await write({ path: 'a/b/c.txt', content: 'héllo\n' });
    expect(res).toEqual({ is_error: false, output: 'created a/b/c.txt (7 bytes written)' });
    expect(await readFile(path.join(ws.root, 'a/b/c.txt'), 'utf8')).toBe('héllo\n');
  });

  it('overwrites an existing file', async () => {
    await writeFile(path.join(ws.root, 'f.txt'), 'old content');
    const res = await write({ path: 'f.txt', content: 'new' });
    expect(res.output).toBe('overwrote f.txt (3 bytes written)');
    expect(await readFile(path.join(ws.root, 'f.txt'), 'utf8')).toBe('new');
  });

  it('accepts an empty file and an absolute path inside', async () => {
    const res = await write({ path: path.join(ws.root, 'empty.txt'), content: '' });
    expect(res.output).toBe('created empty.txt (0 bytes written)');
  });

  it('refuses to write over a directory', async () => {
    await mkdir(path.join(ws.root, 'd'));
    expect(await write({ path: 'd', content: 'x' })).toMatchObject({ is_error: true, output: expect.stringMatching(/d is a directory/) });
  });

  it('rejects missing content', async () => {
    expect((await write({ path: 'x.txt' })).output).toMatch(/invalid arguments for write: content:/);
  });
});
