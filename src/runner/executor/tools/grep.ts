import { readFile, stat } from 'node:fs/promises';
import picomatch from 'picomatch';
import { z } from 'zod';
import { cutLine, looksBinary, statOrNull } from '../fs-util.js';
import { LIMITS } from '../limits.js';
import { displayPath, resolveInside } from '../sandbox.js';
import { spillIfLong } from '../spill.js';
import { defineTool, fail, ok } from '../tool.js';
import { toPosixRelative, walkFiles } from '../walk.js';

const schema = z.object({
  pattern: z.string().min(1).describe('JavaScript regular expression to search for, e.g. "function\\s+\\w+".'),
  path: z
    .string()
    .default('.')
    .describe('File or directory to search, relative to the working directory (default: the working directory).'),
  include: z
    .string()
    .min(1)
    .optional()
    .describe('Only search files matching this glob, e.g. "*.ts" (without "/" it matches file names at any depth).'),
  ignore_case: z.boolean().default(false).describe('Match case-insensitively.'),
});

export const grepTool = defineTool({
  name: 'grep',
  description: [
    'Search file contents for a JavaScript regular expression, line by line. Returns `file:line: text` for',
    `each matching line (paths relative to the working directory, files in path order), at most`,
    `${LIMITS.grepMaxMatches} matches; matching lines are cut to ${LIMITS.grepMaxLineChars} characters.`,
    'Binary files, symbolic links, files over 10 MB and the .git, node_modules and .tower directories are',
    'skipped. Use `include` to restrict the search to files matching a glob.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    let regex: RegExp;
    try {
      regex = new RegExp(args.pattern, args.ignore_case ? 'i' : '');
    } catch (err) {
      return fail(`invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
    const start = await resolveInside(ctx.root, args.path);
    if ((await statOrNull(start)) === null) return fail(`not found: ${displayPath(ctx.root, start)}`);
    // Like ripgrep's --glob: a pattern without "/" matches the file name at any depth.
    const included = args.include
      ? picomatch(args.include, { dot: true, basename: !args.include.includes('/') })
      : () => true;

    const results: string[] = [];
    let capped = false;
    let tooLarge = 0;
    for await (const entry of walkFiles(start, ctx.signal)) {
      // Reading through a symlink could read outside the working directory.
      if (entry.kind !== 'file') continue;
      if (!included(toPosixRelative(start, entry.absolute) || displayPath(ctx.root, entry.absolute))) continue;
      if ((await stat(entry.absolute)).size > LIMITS.grepMaxFileBytes) {
        tooLarge += 1;
        continue;
      }
      const bytes = await readFile(entry.absolute);
      if (looksBinary(bytes)) continue;
      const shown = displayPath(ctx.root, entry.absolute);
      const lines = bytes.toString('utf8').split(/\r?\n/);
      for (let i = 0; i < lines.length; i += 1) {
        const line = lines[i] ?? '';
        if (!regex.test(line)) continue;
        if (results.length >= LIMITS.grepMaxMatches) {
          capped = true;
          break;
        }
        results.push(`${shown}:${i + 1}: ${cutLine(line, LIMITS.grepMaxLineChars)}`);
      }
      if (capped) break;
    }
    if (ctx.signal.aborted) return fail('grep was canceled');

    const notes: string[] = [];
    if (capped) notes.push(`[stopped after ${LIMITS.grepMaxMatches} matches; narrow the pattern, path or include]`);
    if (tooLarge > 0) notes.push(`[${tooLarge} files over 10 MB were skipped]`);
    if (results.length === 0) {
      return ok([`no matches for /${args.pattern}/ in ${displayPath(ctx.root, start)}`, ...notes].join('\n'));
    }
    const text = [results.join('\n'), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
    return ok(await spillIfLong(text, ctx.root, ctx.callId));
  },
});
