import { posix } from 'node:path';

/**
 * Path values are compared in one canonical, relative form: `./src/a.ts`, `src//a.ts` and
 * `src/x/../a.ts` are all `src/a.ts`, so a rule on `src/**` cannot be dodged by spelling and `src/../etc`
 * does not pass as something under `src`. A trailing slash is dropped (`src/` is the directory `src`).
 *
 * An absolute path is made relative to the working directory when one is known and the path lies inside
 * it; otherwise it stays absolute, where a relative rule like `src/**` does not match it.
 */
export function normalizePathValue(value: string, workingDir?: string): string {
  let path = posix.normalize(value);
  if (workingDir && posix.isAbsolute(path)) {
    const relative = posix.relative(posix.normalize(workingDir), path);
    if (relative === '') path = '.';
    else if (relative !== '..' && !relative.startsWith('../') && !posix.isAbsolute(relative)) path = relative;
  }
  if (path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '');
  return path;
}

/** A rule's path glob with leading `./` removed, so `./src/**` means the same as `src/**`. */
export function normalizePathGlob(glob: string): string {
  return glob.replace(/^(?:\.\/)+/, '');
}
