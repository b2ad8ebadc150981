import { lstat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { compareStrings, statOrNull } from '../fs-util.js';
import { LIMITS } from '../limits.js';
import { pathOfDir } from '../safe-open.js';
import { displayPath, resolveInside } from '../sandbox.js';
import { defineTool, fail, ok } from '../tool.js';
import { toPosixRelative, walkFiles } from '../walk.js';
import { Yielder, sortYielding } from '../yielder.js';

const schema = z.object({
  pattern: z
    .string()
    .min(1)
    .describe('Glob pattern relative to `path`, e.g. "**/*.ts" or "src/*.{js,json}".'),
  path: z
    .string()
    .default('.')
    .describe('Directory to search, relative to the working directory (default: the working directory).'),
});

export const globTool = defineTool({
  name: 'glob',
  description: [
    'Find files whose path matches a glob pattern (`*` within one directory, `**` across directories,',
    '`{a,b}` alternatives). The pattern is matched against paths relative to `path`, so "*.ts" matches only',
    'files directly in it and "**/*.ts" matches at any depth; dotfiles are included. Returns paths relative',
    'to the working directory, most recently modified first (ties by name), at most',
    `${LIMITS.globMaxResults}. .git, node_modules and .tower are not searched unless \`path\` points into them;`,
    'symbolic links are listed but not followed.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    const pattern = args.pattern.replace(/^(\.\/)+/, '');
    if (path.isAbsolute(pattern)) {
      return fail('pattern must be relative to `path`; put the directory in `path` and keep the pattern relative');
    }
    const searchDir = await resolveInside(ctx.root, args.path);
    const dirStat = await statOrNull(searchDir);
    if (dirStat === null) return fail(`directory not found: ${displayPath(ctx.root, searchDir)}`);
    if (!dirStat.isDirectory()) return fail(`${displayPath(ctx.root, searchDir)} is not a directory`);

    // Walk only below the pattern's literal prefix ("src" in "src/**/*.ts"); that prefix also goes through
    // the sandbox, so "../x/*" is refused like any other escape.
    const base = picomatch.scan(pattern).base;
    const walkStart = await resolveInside(ctx.root, path.join(searchDir, base));
    if ((await statOrNull(walkStart)) === null) return ok(`no files match ${pattern}`);

    const isMatch = picomatch(pattern, { dot: true });
    const matches: { shown: string; mtimeMs: number }[] = [];
    const yielder = new Yielder();
    for await (const entry of walkFiles(ctx.root, walkStart, ctx.signal, yielder)) {
      const rel = toPosixRelative(walkStart, entry.absolute);
      const candidate = base === '' ? rel : rel === '' ? base : `${base}/${rel}`;
      if (!isMatch(candidate)) continue;
      // Through the open directory, not the path: a swapped parent must not report an outside file's time.
      const st = await lstat(path.join(pathOfDir(entry.dir, path.dirname(entry.absolute)), path.basename(entry.absolute))).catch(() => null);
      if (st === null) continue; // vanished meanwhile
      matches.push({ shown: displayPath(ctx.root, entry.absolute), mtimeMs: st.mtimeMs });
    }
    if (ctx.signal.aborted) return fail('glob was canceled');
    if (matches.length === 0) return ok(`no files match ${pattern}`);

    const sorted = await sortYielding(matches, (a, b) => b.mtimeMs - a.mtimeMs || compareStrings(a.shown, b.shown), yielder);
    const shown = sorted.slice(0, LIMITS.globMaxResults).map((m) => m.shown);
    let text = shown.join('\n');
    if (matches.length > shown.length) {
      text += `\n\n[${matches.length - shown.length} more files not shown (${matches.length} matched); narrow the pattern or path]`;
    }
    return ok(text);
  },
});
