import type { Dirent } from 'node:fs';
import { lstat, opendir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isTowerError } from '../../protocol/errors.js';
import { compareStrings, errnoCode } from './fs-util.js';
import { SKIPPED_DIRS } from './limits.js';
import { openDirAt, openDirInside, pathOfDir } from './safe-open.js';
import { Yielder, sortYielding } from './yielder.js';

export interface WalkEntry {
  absolute: string;
  /** Symlinks are reported as such and never followed (see `walkFiles`). */
  kind: 'file' | 'symlink';
  /**
   * The containing directory, open: read or stat the entry through it (`openForReadAt`, `pathOfDir`) so
   * nothing is resolved by path again. Valid only until the next entry is requested.
   */
  dir: FileHandle;
}

/**
 * Yields the files below `start` (or `start` itself when it is a file) in path order.
 *
 * - Symlinks are not followed: a link could lead outside the working directory or into a cycle. They are
 *   yielded with kind `symlink`, so a caller can list the name without reading through it.
 * - Directories named in `SKIPPED_DIRS` are not entered when met during the walk; `start` itself is always
 *   walked, so an explicit `path: "node_modules/x"` still works.
 * - Unreadable directories are skipped rather than failing the whole search.
 * - Stops early once `signal` is aborted; the caller checks the signal afterwards.
 * - Directories are opened one component at a time from their parent's descriptor (see safe-open.ts), so a
 *   directory swapped for a symlink during the walk is skipped, never followed out of the working directory.
 * - Never holds the event loop: directories are read in batches (`opendir`), sorted with `sortYielding`,
 *   and the loop over entries hands over a turn every few milliseconds, so a directory with a million
 *   entries or a tree with millions of files keeps the server responsive.
 */
export async function* walkFiles(
  root: string,
  start: string,
  signal?: AbortSignal,
  yielder = new Yielder(),
): AsyncGenerator<WalkEntry> {
  const st = await lstat(start);
  if (!st.isFile() && !st.isDirectory()) return;
  const dir = await openDirInside(root, st.isFile() ? path.dirname(start) : start, false);
  try {
    if (st.isFile()) yield { absolute: start, kind: 'file', dir };
    else yield* walkDir(dir, start, signal, yielder);
  } finally {
    await dir.close();
  }
}

async function* walkDir(dir: FileHandle, absoluteDir: string, signal: AbortSignal | undefined, yielder: Yielder): AsyncGenerator<WalkEntry> {
  const entries = await readEntries(pathOfDir(dir, absoluteDir), signal, yielder);
  if (entries === null) return;
  for (const entry of await sortYielding(entries, (a, b) => compareStrings(a.name, b.name), yielder)) {
    if (signal?.aborted) return;
    await yielder.maybe();
    const absolute = path.join(absoluteDir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      const child = await openChildDir(dir, entry.name, absolute);
      if (child === null) continue;
      try {
        yield* walkDir(child, absolute, signal, yielder);
      } finally {
        await child.close();
      }
    } else if (entry.isFile()) {
      yield { absolute, kind: 'file', dir };
    } else if (entry.isSymbolicLink()) {
      yield { absolute, kind: 'symlink', dir };
    }
  }
}

/** The subdirectory, or `null` when it vanished, is unreadable or was swapped for a symlink meanwhile. */
export async function openChildDir(dir: FileHandle, name: string, absolute: string): Promise<FileHandle | null> {
  try {
    return await openDirAt(dir, name, absolute);
  } catch (err) {
    if (isTowerError(err)) return null;
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
}

/** A directory's entries, read in batches; `null` when it cannot be read (skipped, not fatal). */
export async function readEntries(dir: string, signal?: AbortSignal, yielder = new Yielder()): Promise<Dirent[] | null> {
  const entries: Dirent[] = [];
  try {
    const handle = await opendir(dir, { bufferSize: 256 });
    for await (const entry of handle) {
      entries.push(entry);
      if (signal?.aborted) break; // leaving the loop closes the handle
      await yielder.maybe();
    }
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  return entries;
}

/** `relative` from `base` with `/` separators, the form glob patterns are written in. */
export function toPosixRelative(base: string, absolute: string): string {
  return path.relative(base, absolute).split(path.sep).join('/');
}
