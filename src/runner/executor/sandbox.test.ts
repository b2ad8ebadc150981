import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { isInside, resolveInside, resolveInsideRoot } from './sandbox.js';
import { makeWorkspace, type Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function refusal(userPath: string): Promise<string> {
  try {
    const resolved = await resolveInside(ws.root, userPath);
    throw new Error(`expected ${userPath} to be refused, got ${resolved}`);
  } catch (err) {
    if (!isTowerError(err)) throw err;
    expect(err.code).toBe('path_outside_workspace');
    return err.message;
  }
}

describe('isInside', () => {
  it('compares path segments, not string prefixes', () => {
    expect(isInside('/tmp/root', '/tmp/root')).toBe(true);
    expect(isInside('/tmp/root', '/tmp/root/a/b')).toBe(true);
    expect(isInside('/tmp/root', '/tmp/root/..hidden')).toBe(true);
    expect(isInside('/tmp/root', '/tmp/root-evil')).toBe(false);
    expect(isInside('/tmp/root', '/tmp/root-evil/x')).toBe(false);
    expect(isInside('/tmp/root', '/tmp')).toBe(false);
    expect(isInside('/tmp/root', '/etc/passwd')).toBe(false);
  });
});

describe('resolveInside', () => {
  it('resolves relative paths, existing or not, to real paths inside', async () => {
    await writeFile(path.join(ws.root, 'a.txt'), 'x');
    expect(await resolveInside(ws.root, 'a.txt')).toBe(path.join(ws.root, 'a.txt'));
    expect(await resolveInside(ws.root, 'new/dir/b.txt')).toBe(path.join(ws.root, 'new/dir/b.txt'));
    expect(await resolveInside(ws.root, '.')).toBe(ws.root);
    expect(await resolveInside(ws.root, '')).toBe(ws.root);
    expect(await resolveInside(ws.root, 'a/../a.txt')).toBe(path.join(ws.root, 'a.txt'));
  });

  it('accepts absolute paths inside the working directory', async () => {
    expect(await resolveInside(ws.root, path.join(ws.root, 'x/y.txt'))).toBe(path.join(ws.root, 'x/y.txt'));
  });

  it('refuses .. escapes', async () => {
    expect(await refusal('../x')).toMatch(/"\.\." leads out/);
    await refusal('a/../../x');
    await refusal('..');
  });

  it('refuses absolute paths outside', async () => {
    expect(await refusal('/etc/passwd')).toMatch(/absolute paths are accepted only/);
  });

  it('refuses the sibling whose name shares the prefix (root vs root-evil)', async () => {
    await writeFile(path.join(ws.outside, 'secret'), 's');
    await refusal('../root-evil/secret');
    await refusal(path.join(ws.outside, 'secret'));
    await refusal(`${ws.root}-evil/secret`);
  });

  it('refuses NUL bytes', async () => {
    expect(await refusal('a\0b')).toMatch(/NUL/);
  });

  it('refuses symlinks whose target leaves, including paths below them that do not exist yet', async () => {
    await writeFile(path.join(ws.outside, 'secret'), 's');
    await symlink(path.join(ws.outside, 'secret'), path.join(ws.root, 'file-link'));
    await symlink(ws.outside, path.join(ws.root, 'dir-link'));
    expect(await refusal('file-link')).toMatch(/symlink/);
    await refusal('dir-link');
    await refusal('dir-link/secret');
    await refusal('dir-link/new/deeper.txt');
    await refusal(path.join(ws.root, 'dir-link', 'secret'));
  });

  it('refuses dangling symlinks that would create a file outside', async () => {
    await symlink(path.join(ws.outside, 'not-yet'), path.join(ws.root, 'dangling'));
    await refusal('dangling');
    await refusal('dangling/child');
  });

  it('allows symlinks that point inside, returning the real target', async () => {
    await mkdir(path.join(ws.root, 'real'));
    await writeFile(path.join(ws.root, 'real/f.txt'), 'x');
    await symlink(path.join(ws.root, 'real'), path.join(ws.root, 'alias'));
    await symlink('real/f.txt', path.join(ws.root, 'f-link'));
    await symlink('real/missing.txt', path.join(ws.root, 'dangling-inside'));
    expect(await resolveInside(ws.root, 'alias/f.txt')).toBe(path.join(ws.root, 'real/f.txt'));
    expect(await resolveInside(ws.root, 'f-link')).toBe(path.join(ws.root, 'real/f.txt'));
    expect(await resolveInside(ws.root, 'dangling-inside')).toBe(path.join(ws.root, 'real/missing.txt'));
  });

  it('works when the working directory itself is reached through a symlink', async () => {
    const alias = `${ws.outside}/ws-alias`;
    await symlink(ws.root, alias);
    expect(await resolveInside(alias, 'a.txt')).toBe(path.join(ws.root, 'a.txt'));
    expect(await resolveInside(alias, path.join(alias, 'a.txt'))).toBe(path.join(ws.root, 'a.txt'));
    await expect(resolveInside(alias, '../secret')).rejects.toThrow(/outside the working directory/);
  });

  it('refuses symlink loops clearly', async () => {
    await symlink('loop-b', path.join(ws.root, 'loop-a'));
    await symlink('loop-a', path.join(ws.root, 'loop-b'));
    await expect(resolveInside(ws.root, 'loop-a')).rejects.toThrow();
  });
});

describe('resolveInsideRoot', () => {
  it('answers exactly as resolveInside for a real root: paths, errors and messages', async () => {
    const root = ws.root;
    await mkdir(path.join(root, 'dir'), { recursive: true });
    await writeFile(path.join(root, 'dir', 'f.txt'), 'x');
    await symlink(path.join(root, 'dir'), path.join(root, 'inner-link'));
    await symlink('/etc', path.join(root, 'outer-link'));
    await symlink(path.join(root, 'missing-target'), path.join(root, 'dangling'));
    await symlink('/nonexistent-x5/target', path.join(root, 'dangling-out'));
    const paths = ['dir/f.txt', 'dir', '.', '', 'new/file.txt', 'inner-link/f.txt', 'outer-link/passwd', 'outer-link',
      'dangling', 'dangling-out', '../x', 'dir/../../x', path.join(root, 'dir/f.txt'), '/etc/passwd', 'a\0b'];
    const settle = (p: Promise<string>) => p.then((value) => ({ value }), (err: unknown) => ({ err: isTowerError(err) ? [err.code, err.message] : String(err) }));
    for (const p of paths) {
      expect(await settle(resolveInsideRoot(root, p)), JSON.stringify(p)).toEqual(await settle(resolveInside(root, p)));
    }
  });
});
