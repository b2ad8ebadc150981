import { access, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from './executor.js';
import { callTool, makeWorkspace, type Workspace } from './test-support.js';

/** Every file tool, end to end through the executor, against every way out of the working directory. */
const executor = createLocalExecutor();
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
  await writeFile(path.join(ws.outside, 'secret.txt'), 'top secret\n');
  await writeFile(path.join(ws.root, 'inside.txt'), 'fine\n');
});
afterEach(async () => {
  await ws.cleanup();
});

const call = (name: string, args: unknown) => callTool(executor, ws.root, name, args);

async function expectRefused(name: string, args: unknown): Promise<void> {
  const res = await call(name, args);
  expect(res.is_error, `${name} ${JSON.stringify(args)} should be refused`).toBe(true);
  expect(res.output).toMatch(/outside the working directory|NUL byte/);
  expect(res.output).not.toContain('top secret');
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

const ESCAPES = ['../root-evil/secret.txt', 'a/../../root-evil/secret.txt', '/etc/passwd', 'in\0side.txt'];

describe('sandbox escapes are refused by every tool', () => {
  it.each(ESCAPES)('read, list, glob and grep refuse %j', async (p) => {
    await expectRefused('read', { path: p });
    await expectRefused('list', { path: p });
    await expectRefused('glob', { pattern: '*', path: p });
    await expectRefused('grep', { pattern: 'secret', path: p });
  });

  it.each(ESCAPES)('write refuses %j', async (p) => {
    await expectRefused('write', { path: p, content: 'pwned' });
  });

  it('refuses ../x and the sibling prefix by absolute path (root vs root-evil)', async () => {
    await expectRefused('read', { path: '../x' });
    await expectRefused('read', { path: path.join(ws.outside, 'secret.txt') });
    await expectRefused('write', { path: path.join(ws.outside, 'new.txt'), content: 'pwned' });
    expect(await exists(path.join(ws.outside, 'new.txt'))).toBe(false);
  });

  it('refuses a symlink inside that points outside, for read, write and list', async () => {
    await symlink(path.join(ws.outside, 'secret.txt'), path.join(ws.root, 'file-link'));
    await symlink(ws.outside, path.join(ws.root, 'dir-link'));
    await expectRefused('read', { path: 'file-link' });
    await expectRefused('read', { path: 'dir-link/secret.txt' });
    await expectRefused('write', { path: 'file-link', content: 'pwned' });
    await expectRefused('list', { path: 'dir-link' });
    await expectRefused('grep', { pattern: 'secret', path: 'dir-link' });
    await expectRefused('glob', { pattern: '*', path: 'dir-link' });
    expect(await readFile(path.join(ws.outside, 'secret.txt'), 'utf8')).toBe('top secret\n');
  });

  it('refuses writing through a symlinked directory, even into new subdirectories', async () => {
    await symlink(ws.outside, path.join(ws.root, 'dir-link'));
    await expectRefused('write', { path: 'dir-link/planted.txt', content: 'pwned' });
    await expectRefused('write', { path: 'dir-link/new/deep/planted.txt', content: 'pwned' });
    expect(await exists(path.join(ws.outside, 'planted.txt'))).toBe(false);
    expect(await exists(path.join(ws.outside, 'new'))).toBe(false);
  });

  it('refuses writing through a dangling symlink that points outside', async () => {
    await symlink(path.join(ws.outside, 'created.txt'), path.join(ws.root, 'dangling'));
    await expectRefused('write', { path: 'dangling', content: 'pwned' });
    expect(await exists(path.join(ws.outside, 'created.txt'))).toBe(false);
  });

  it('allows symlinks that point inside', async () => {
    await mkdir(path.join(ws.root, 'real'));
    await writeFile(path.join(ws.root, 'real/f.txt'), 'hello\n');
    await symlink(path.join(ws.root, 'real'), path.join(ws.root, 'alias'));
    await symlink('real/f.txt', path.join(ws.root, 'f-link'));
    expect(await call('read', { path: 'f-link' })).toEqual({ is_error: false, output: '     1\thello' });
    expect((await call('list', { path: 'alias' })).output).toBe('f.txt');
    expect((await call('write', { path: 'alias/g.txt', content: 'x' })).output).toBe('created real/g.txt (1 bytes written)');
    expect(await readFile(path.join(ws.root, 'real/g.txt'), 'utf8')).toBe('x');
    expect((await call('grep', { pattern: 'hello', path: 'alias' })).output).toBe('real/f.txt:1: hello');
  });

  it('accepts absolute paths that resolve inside', async () => {
    expect((await call('read', { path: path.join(ws.root, 'inside.txt') })).output).toBe('     1\tfine');
  });
});
