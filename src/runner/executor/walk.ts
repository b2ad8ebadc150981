import type { Dirent } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { compareStrings, errnoCode } from './fs-util.js';
import { SKIPPED_DIRS } from './limits.js';
import { Yielder, sortYielding } from './yielder.js';

export interface WalkEntry {
  absolute: string;
  /** Symlinks are reported as such and never followed (see `walkFiles`). */
  kind: 'file' | 'symlink';
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
 * - Never holds the event loop: directories are read in batches (`opendir`), sorted with `sortYielding`,
 *   and the loop over entries hands over a turn every few milliseconds, so a directory with a million
 *   entries or a tree with millions of files keeps the server responsive.
 */
export async function* walkFiles(start: string, signal?: AbortSignal, yielder = new Yielder()): AsyncGenerator<WalkEntry> {
  const st = await lstat(start);
  if (st.isFile()) {
    yield { absolute: start, kind: 'file' };
    return;
  }
  if (!st.isDirectory()) return;
  yield* walkDir(start, signal, yielder);
}

async function* walkDir(dir: string, signal: AbortSignal | undefined, yielder: Yielder): AsyncGenerator<WalkEntry> {
  const entries = await readEntries(dir, signal, yielder);
  if (entries === null) return;
  for (const entry of await sortYielding(entries, (a, b) => compareStrings(a.name, b.name), yielder)) {
    if (signal?.aborted) return;
    await yielder.maybe();
    const absolute = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walkDir(absolute, signal, yielder);
    } else if (entry.isFile()) {
      yield { absolute, kind: 'file' };
    } else if (entry.isSymbolicLink()) {
      yield { absolute, kind: 'symlink' };
    }
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
