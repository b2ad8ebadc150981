import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareStrings, errnoCode } from './fs-util.js';
import { SKIPPED_DIRS } from './limits.js';

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
 */
export async function* walkFiles(start: string, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  const st = await lstat(start);
  if (st.isFile()) {
    yield { absolute: start, kind: 'file' };
    return;
  }
  if (!st.isDirectory()) return;
  yield* walkDir(start, signal);
}

async function* walkDir(dir: string, signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') return;
    throw err;
  }
  entries.sort((a, b) => compareStrings(a.name, b.name));
  for (const entry of entries) {
    if (signal?.aborted) return;
    const absolute = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walkDir(absolute, signal);
    } else if (entry.isFile()) {
      yield { absolute, kind: 'file' };
    } else if (entry.isSymbolicLink()) {
      yield { absolute, kind: 'symlink' };
    }
  }
}

/** `relative` from `base` with `/` separators, the form glob patterns are written in. */
export function toPosixRelative(base: string, absolute: string): string {
  return path.relative(base, absolute).split(path.sep).join('/');
}
