import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { TowerError } from '../../protocol/errors.js';
import { errnoCode } from './fs-util.js';
import { isInside } from './sandbox.js';

/**
 * Opening files so that what is read or written is the file that was checked, even while a concurrent
 * command swaps directories for symlinks (time-of-check to time-of-use).
 *
 * `resolveInside` decides on a symlink-free real path. This module then walks that path one component at
 * a time from an open descriptor of the working directory, like `openat(2)`: each component is opened
 * through `/proc/self/fd/<parent>/<name>` with `O_NOFOLLOW`, so a component that became a symlink after
 * the check fails with ELOOP instead of being followed, and the walk can never leave the directory it
 * started from. The opened descriptor's own path (`/proc/self/fd/N`) is checked once more at the end.
 *
 * Hard links: a hard link inside the working directory to a file outside it is indistinguishable from the
 * file itself, so a regular file with more than one link is refused for reading (the model is told to copy
 * it with bash if it needs it). Writes never go through an existing inode: content goes to a fresh file
 * that is renamed over the target, which replaces a hard link instead of writing the outside file.
 *
 * Linux only (it needs /proc); elsewhere the final component is still opened with `O_NOFOLLOW`.
 */

const HAS_PROC_FD = process.platform === 'linux';
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: opening a FIFO for reading would otherwise park a libuv thread until a writer appears.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const fdPath = (handle: FileHandle, name?: string): string =>
  name === undefined ? `/proc/self/fd/${handle.fd}` : `/proc/self/fd/${handle.fd}/${name}`;

function swapped(target: string): TowerError {
  return new TowerError(
    'path_outside_workspace',
    `${target} changed into a symbolic link while it was being opened; refusing to follow it`,
  );
}

async function openComponent(parent: FileHandle, name: string, flags: number, mode?: number): Promise<FileHandle> {
  try {
    return await open(fdPath(parent, name), flags, mode);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ELOOP') throw swapped(name);
    // O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR, not ELOOP.
    if (code === 'ENOTDIR' && (flags & constants.O_DIRECTORY) !== 0 && (await isSymlink(fdPath(parent, name)))) throw swapped(name);
    throw err;
  }
}

async function isSymlink(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => undefined))?.isSymbolicLink() === true;
}

/**
 * Opens the directory `dir` (a real path inside `root`) by walking down from `root`. On systems without
 * /proc the path is opened directly (with `O_NOFOLLOW` on its last component).
 */
export async function openDirInside(root: string, dir: string, create: boolean): Promise<FileHandle> {
  if (!HAS_PROC_FD) {
    if (create) await mkdir(dir, { recursive: true });
    return open(dir, DIR_FLAGS);
  }
  const rel = path.relative(root, dir);
  let current = await open(root, DIR_FLAGS);
  try {
    if ((await readlink(fdPath(current))) !== root) throw swapped(root);
    for (const name of rel === '' ? [] : rel.split(path.sep)) {
      if (create) {
        try {
          await mkdir(fdPath(current, name));
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
        }
      }
      const next = await openComponent(current, name, DIR_FLAGS);
      await current.close();
      current = next;
    }
    return current;
  } catch (err) {
    await current.close();
    throw err;
  }
}

async function assertFdInside(root: string, handle: FileHandle, shown: string): Promise<void> {
  if (!HAS_PROC_FD) return;
  const actual = await readlink(fdPath(handle));
  if (!isInside(root, actual)) throw swapped(shown);
}

export interface OpenedFile {
  handle: FileHandle;
  /** Hard-link count, size and type, from the descriptor (not the path). */
  stats: Awaited<ReturnType<FileHandle['stat']>>;
}

/**
 * Opens `file` (a real path inside `root`, as `resolveInside` returns) for reading. Resolves with the open
 * handle and its `fstat`; the caller closes it. Refuses symlink swaps and hard-linked regular files.
 */
export async function openForRead(root: string, file: string, shown: string): Promise<OpenedFile> {
  if (!HAS_PROC_FD || file === root) return checkedForRead(root, await open(file, READ_FLAGS), shown);
  const dir = await openDirInside(root, path.dirname(file), false);
  try {
    return await openForReadAt(root, dir, file, shown);
  } finally {
    await dir.close();
  }
}

/**
 * `openForRead` of the file `absolute` through its already opened directory `dir` (as the tree walker has
 * them), so no path is resolved again.
 */
export async function openForReadAt(root: string, dir: FileHandle, absolute: string, shown: string): Promise<OpenedFile> {
  const file = HAS_PROC_FD ? fdPath(dir, path.basename(absolute)) : absolute;
  return checkedForRead(root, await openFile(file, READ_FLAGS, shown), shown);
}

/** Opens the subdirectory `name` of `dir` without following a symlink there. */
export async function openDirAt(dir: FileHandle, name: string, absolute: string): Promise<FileHandle> {
  return HAS_PROC_FD ? openComponent(dir, name, DIR_FLAGS) : open(absolute, DIR_FLAGS);
}

/** A path through which `dir`'s entries can be listed or stat-ed (its descriptor on Linux). */
export function pathOfDir(dir: FileHandle, absolute: string): string {
  return HAS_PROC_FD ? fdPath(dir) : absolute;
}

async function openFile(file: string, flags: number, shown: string): Promise<FileHandle> {
  try {
    return await open(file, flags);
  } catch (err) {
    if (errnoCode(err) === 'ELOOP') throw swapped(shown);
    throw err;
  }
}

async function checkedForRead(root: string, handle: FileHandle, shown: string): Promise<OpenedFile> {
  try {
    await assertFdInside(root, handle, shown);
    const stats = await handle.stat();
    if (stats.isFile() && stats.nlink > 1) {
      throw new TowerError(
        'path_outside_workspace',
        `${shown} has ${stats.nlink} hard links; file tools do not read hard-linked files, because a link can ` +
          'expose a file outside the working directory. Copy it (cp) to read the copy.',
      );
    }
    return { handle, stats };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * Replaces `file` (a real path inside `root`) with `content`, creating missing parent directories. The
 * content is written to a fresh file beside it and renamed over the target, keeping the target's mode.
 */
export async function writeInside(root: string, file: string, content: string | Uint8Array): Promise<void> {
  if (!HAS_PROC_FD) {
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(content, 'utf8');
    } finally {
      await handle.close();
    }
    return;
  }
  const name = path.basename(file);
  const dir = await openDirInside(root, path.dirname(file), true);
  try {
    await assertFdInside(root, dir, path.dirname(file));
    const mode = await existingMode(dir, name);
    const temp = `.${name.slice(0, 100)}.tower-${randomBytes(6).toString('hex')}`;
    const out = await openComponent(dir, temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await out.writeFile(content, 'utf8');
      if (mode !== undefined) await out.chmod(mode);
    } catch (err) {
      await out.close();
      await unlink(fdPath(dir, temp)).catch(() => undefined);
      throw err;
    }
    await out.close();
    try {
      // Both names resolve through the directory descriptor, so the rename cannot land elsewhere.
      await rename(fdPath(dir, temp), fdPath(dir, name));
    } catch (err) {
      await unlink(fdPath(dir, temp)).catch(() => undefined);
      throw err;
    }
  } finally {
    await dir.close();
  }
}

/** Permission bits of an existing regular file `name` in `dir`, so a rewrite keeps `chmod +x`. */
async function existingMode(dir: FileHandle, name: string): Promise<number | undefined> {
  let handle: FileHandle;
  try {
    handle = await openComponent(dir, name, READ_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new TowerError('invalid_request', `${name} is a directory; give a file path to write`);
    return st.isFile() ? st.mode & 0o7777 : undefined;
  } finally {
    await handle.close();
  }
}
