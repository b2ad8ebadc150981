import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { TowerError } from '../../protocol/errors.js';
import { errnoCode } from './fs-util.js';

/**
 * Confines tool paths to the session's working directory.
 *
 * Policy:
 * - Relative paths are resolved against the working directory.
 * - Absolute paths are accepted when they resolve inside the working directory (models often echo back
 *   absolute paths they saw in earlier output) and refused otherwise.
 * - The decision is made on the *real* path: every existing component is resolved through symlinks, so a
 *   symlink inside the workspace that points outside is refused, and one that points elsewhere inside is
 *   allowed. For paths that do not exist yet (write targets) the deepest existing ancestor is resolved and
 *   the missing tail appended; a dangling symlink is followed by hand to where it would create the file.
 * - Containment is compared on path segments (`path.relative`), never by string prefix, so a sibling
 *   `/x/root-evil` is not inside `/x/root` (the Flashduty runner's gap).
 * - Callers must use the returned real path, not the user's string: `..` is normalised lexically before
 *   resolution, so the returned path is the one that was checked.
 *
 * Limits: this is a path check. A symlink created between the check and the use (by a concurrent `bash`
 * call, say) is caught by safe-open.ts, which opens by descriptor; `bash` is contained by the OS sandbox
 * (bwrap.ts), or not at all with `sandbox: none`.
 */

/** Symlink hops followed by hand for dangling links, like the kernel's own limit. */
const MAX_SYMLINK_HOPS = 40;

/** The real (symlink-free) absolute path of the working directory. */
export async function realWorkingDir(workingDir: string): Promise<string> {
  if (!path.isAbsolute(workingDir)) {
    throw new TowerError('invalid_request', `working directory must be an absolute path, got "${workingDir}"`);
  }
  try {
    return await realpath(workingDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new TowerError('not_found', `working directory ${workingDir} does not exist`);
    }
    throw err;
  }
}

/** True when `candidate` is `root` or below it. Both must be absolute and normalised. */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  if (rel === '') return true;
  if (path.isAbsolute(rel)) return false; // different drive on Windows
  return rel !== '..' && !rel.startsWith(`..${path.sep}`);
}

/**
 * Resolves `userPath` against `workingDir` and returns its real absolute path, or throws a
 * `TowerError('path_outside_workspace')` saying why it was refused.
 */
export async function resolveInside(workingDir: string, userPath: string): Promise<string> {
  if (userPath.includes('\0')) {
    throw new TowerError('path_outside_workspace', 'path contains a NUL byte, which no file name can hold');
  }
  const root = await realWorkingDir(workingDir);
  const lexical = path.isAbsolute(userPath) ? path.resolve(userPath) : path.resolve(root, userPath || '.');
  const real = await realpathAllowMissing(lexical, 0);
  if (isInside(root, real)) return real;

  const shown = JSON.stringify(userPath);
  let why: string;
  if (path.isAbsolute(userPath) && !isInside(root, lexical) && !isInside(path.resolve(workingDir), lexical)) {
    why = 'absolute paths are accepted only when they lie inside the working directory';
  } else if (!isInside(root, lexical)) {
    why = '".." leads out of the working directory';
  } else {
    why = `it resolves through a symlink to ${real}`;
  }
  throw new TowerError(
    'path_outside_workspace',
    `path ${shown} is outside the working directory (${root}): ${why}. Use paths relative to the working directory.`,
    { path: userPath, resolved: real, working_dir: root },
  );
}

/**
 * `resolveInside` for a `root` that is already real (a runner's workspace, resolved once at its start):
 * an existing path inside costs one `realpath` instead of `realpath(root)`, `lstat` and `realpath`. Each
 * async fs call is a threadpool round trip (~50-80 us of CPU on a runner's `read`, most of it the
 * wake-ups). Anything else (a missing tail, a dangling symlink, a path outside, an error) goes through
 * `resolveInside` itself, so results and messages are the same. A root swapped for a symlink after its
 * start is refused here rather than followed (safe-open.ts refuses to open through it either way).
 */
export async function resolveInsideRoot(root: string, userPath: string): Promise<string> {
  if (!userPath.includes('\0')) {
    const lexical = path.isAbsolute(userPath) ? path.resolve(userPath) : path.resolve(root, userPath || '.');
    const real = await realpath(lexical).catch(() => null);
    if (real !== null && isInside(root, real)) return real;
  }
  return resolveInside(root, userPath);
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** `realpath` that tolerates a missing tail, and follows dangling symlinks to where they would lead. */
async function realpathAllowMissing(absolute: string, hops: number): Promise<string> {
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch (err) {
      if (!isMissing(err)) throw err;
      const parent = path.dirname(existing);
      if (parent === existing) break;
      missing.unshift(path.basename(existing));
      existing = parent;
    }
  }

  let real: string;
  try {
    real = await realpath(existing);
  } catch (err) {
    // `existing` passed lstat, so its ancestors resolve: it is itself a symlink whose target is missing.
    // Writing to it would create that target, so the target is what must be checked.
    if (errnoCode(err) !== 'ENOENT') throw err;
    if (hops >= MAX_SYMLINK_HOPS) {
      throw new TowerError('path_outside_workspace', `too many levels of symbolic links at ${existing}`);
    }
    const target = await readlink(existing);
    const dir = await realpath(path.dirname(existing));
    real = await realpathAllowMissing(path.resolve(dir, target), hops + 1);
  }
  return missing.length === 0 ? real : path.join(real, ...missing);
}

/** How a path is shown to the model: relative to the working directory, with `/` separators. */
export function displayPath(root: string, absolute: string): string {
  const rel = path.relative(root, absolute);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}
