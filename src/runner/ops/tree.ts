import type { Dirent } from 'node:fs';
import { readdir, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { errnoCode } from '../executor/fs-util.js';
import { openDirInside, pathOfDir } from '../executor/safe-open.js';
import { openChildDir } from '../executor/walk.js';

/**
 * Walks the workspace the way git sees it: `.gitignore` files (the root's and every nested one, each
 * applying below its own directory) and the caller's extra patterns prune the walk, so an ignored
 * `dist/` with 100,000 files costs one readdir. `.git` is never entered; symlinks are reported, never
 * followed (a link could lead outside the workspace or into a cycle). Directories are opened from their
 * parent's descriptor like the local tools' walk (`executor/safe-open.ts`), so a directory swapped for a
 * symlink meanwhile is skipped, never followed out of the workspace.
 */

export interface TreeEntry {
  absolute: string;
  /** Path relative to the workspace root, `/`-separated. */
  rel: string;
  kind: 'file' | 'dir' | 'symlink';
  /** The containing directory, open (read or stat the entry through it); valid until the next entry. */
  dir: FileHandle;
  /** The entry's path through `dir`'s descriptor (`/proc/self/fd/N/name` on Linux): stat it, never resolve `absolute` again. */
  via: string;
}

interface Rules {
  /** Directory the rules apply below, relative to the root ('' for the root). */
  base: string;
  ig: Ignore;
}

export interface WalkOptions {
  /** Extra gitignore-style patterns, relative to the directory walked. */
  ignore?: readonly string[];
  /** Descend into subdirectories (default true). */
  recursive?: boolean;
  signal?: AbortSignal;
}

// `.tower` holds Tower's own scratch files (spilled outputs); listing it explicitly still works.
const NEVER_ENTERED = new Set(['.git', '.tower']);

export async function* walkTree(root: string, start: string, opts: WalkOptions = {}): AsyncGenerator<TreeEntry> {
  const rules: Rules[] = [];
  const startRel = toRel(root, start);
  if (opts.ignore && opts.ignore.length > 0) rules.push({ base: startRel, ig: ignore().add([...opts.ignore]) });
  // Ancestors' .gitignore files apply to a walk that starts below the root.
  const segments = startRel === '' ? [] : startRel.split('/');
  for (let i = 0; i <= segments.length; i += 1) {
    const base = segments.slice(0, i).join('/');
    const ig = await loadGitignore(path.join(root, base));
    if (ig) rules.push({ base, ig });
  }
  const dir = await openDirInside(root, start, false);
  try {
    yield* walkDir(root, dir, start, rules, opts, true);
  } finally {
    await dir.close();
  }
}

async function* walkDir(root: string, dir: FileHandle, absoluteDir: string, rules: Rules[], opts: WalkOptions, isStart: boolean): AsyncGenerator<TreeEntry> {
  const through = pathOfDir(dir, absoluteDir);
  let entries: Dirent[];
  try {
    entries = await readdir(through, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') return;
    throw err;
  }
  let scoped = rules;
  if (!isStart) {
    const own = await loadGitignore(through);
    if (own) scoped = [...rules, { base: toRel(root, absoluteDir), ig: own }];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (opts.signal?.aborted) return;
    const absolute = path.join(absoluteDir, entry.name);
    const rel = toRel(root, absolute);
    const isDir = entry.isDirectory();
    if (isDir && NEVER_ENTERED.has(entry.name)) continue;
    if (isIgnored(scoped, rel, isDir)) continue;
    const via = path.join(through, entry.name);
    if (isDir) {
      yield { absolute, rel, kind: 'dir', dir, via };
      if (opts.recursive === false) continue;
      const child = await openChildDir(dir, entry.name, absolute);
      if (child === null) continue;
      try {
        yield* walkDir(root, child, absolute, scoped, opts, false);
      } finally {
        await child.close();
      }
    } else if (entry.isFile()) {
      yield { absolute, rel, kind: 'file', dir, via };
    } else if (entry.isSymbolicLink()) {
      yield { absolute, rel, kind: 'symlink', dir, via };
    }
  }
}

function isIgnored(rules: Rules[], rel: string, isDir: boolean): boolean {
  for (const { base, ig } of rules) {
    const local = base === '' ? rel : rel.startsWith(`${base}/`) ? rel.slice(base.length + 1) : null;
    if (local === null || local === '') continue;
    if (ig.ignores(isDir ? `${local}/` : local)) return true;
  }
  return false;
}

async function loadGitignore(dir: string): Promise<Ignore | null> {
  try {
    return ignore().add(await readFile(path.join(dir, '.gitignore'), 'utf8'));
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES') return null;
    throw err;
  }
}

function toRel(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join('/');
}
