import { mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runOperation } from './dispatch.js';
import { makeOpWorkspace, type OpWorkspace } from './test-support.js';

/**
 * The runner's file operations under a symlink swap between the path check and the open: `resolveInside`
 * (and `resolveInsideRoot`) is wrapped so that right after it answered, `root/d` becomes a symlink to the
 * outside directory (what a concurrent command could do). Each operation must refuse, never read, list or write outside.
 */
const hook = vi.hoisted(() => ({ afterResolve: undefined as (() => Promise<void>) | undefined }));
vi.mock('../executor/index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../executor/index.js')>();
  return {
    ...actual,
    resolveInside: async (...args: Parameters<typeof actual.resolveInside>) => {
      const resolved = await actual.resolveInside(...args);
      await hook.afterResolve?.();
      return resolved;
    },
    // The operations resolve through the fast path for their (real) workspace root.
    resolveInsideRoot: async (...args: Parameters<typeof actual.resolveInsideRoot>) => {
      const resolved = await actual.resolveInsideRoot(...args);
      await hook.afterResolve?.();
      return resolved;
    },
  };
});

let ws: OpWorkspace;
beforeEach(async () => {
  ws = await makeOpWorkspace();
  await mkdir(path.join(ws.root, 'd'));
  await writeFile(path.join(ws.root, 'd', 'file.txt'), 'inside\n');
  await writeFile(path.join(ws.outside, 'file.txt'), 'OUTSIDE\n');
  hook.afterResolve = async () => {
    hook.afterResolve = undefined;
    await rename(path.join(ws.root, 'd'), path.join(ws.root, 'd.real'));
    await symlink(ws.outside, path.join(ws.root, 'd'));
  };
});
afterEach(async () => {
  hook.afterResolve = undefined;
  await ws.cleanup();
});

const op = (operation: Parameters<typeof runOperation>[0], args: unknown) => runOperation(operation, args, ws.ctx());

describe('runner file operations when a directory is swapped for a symlink after the check', () => {
  it('read refuses instead of reading the outside file', async () => {
    const out = await op('read', { path: 'd/file.txt' });
    expect(out).toMatchObject({ success: false, error: expect.stringContaining('symbolic link') });
    expect(JSON.stringify(out)).not.toContain(Buffer.from('OUTSIDE\n').toString('base64'));
  });

  it('write refuses and writes nothing outside', async () => {
    const out = await op('write', { path: 'd/new.txt', content: Buffer.from('x').toString('base64') });
    expect(out).toMatchObject({ success: false, error: expect.stringContaining('symbolic link') });
    expect((await readdir(ws.outside)).sort()).toEqual(['file.txt']);
    expect(await readFile(path.join(ws.outside, 'file.txt'), 'utf8')).toBe('OUTSIDE\n');
  });

  it('list refuses instead of listing the outside directory', async () => {
    const out = await op('list', { path: 'd' });
    expect(out).toMatchObject({ success: false, error: expect.stringContaining('symbolic link') });
  });

  it('without a swap, the same operations work (the hook is what makes them fail)', async () => {
    hook.afterResolve = undefined;
    expect(await op('read', { path: 'd/file.txt' })).toMatchObject({ success: true, result: { content: Buffer.from('inside\n').toString('base64') } });
    expect(await op('list', { path: 'd' })).toMatchObject({ success: true, result: { entries: [{ path: 'd/file.txt', is_dir: false, size: 7 }] } });
    expect(await op('write', { path: 'd/new.txt', content: Buffer.from('x').toString('base64') })).toMatchObject({ success: true });
  });
});
