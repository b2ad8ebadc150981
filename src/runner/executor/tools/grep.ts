import picomatch from 'picomatch';
import { RE2JS } from 're2js';
import { z } from 'zod';
import { isTowerError } from '../../../protocol/errors.js';
import { cutLine, errnoCode, looksBinary, statOrNull } from '../fs-util.js';
import { LIMITS } from '../limits.js';
import { readLines } from '../line-reader.js';
import { openForReadAt } from '../safe-open.js';
import { displayPath, resolveInside } from '../sandbox.js';
import { spillIfLong } from '../spill.js';
import { defineTool, fail, ok } from '../tool.js';
import { toPosixRelative, walkFiles, type WalkEntry } from '../walk.js';
import { Yielder } from '../yielder.js';

const schema = z.object({
  pattern: z.string().min(1).describe('Regular expression (RE2 syntax) to search for, e.g. "function\\s+\\w+".'),
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
    'Search file contents for a regular expression, line by line. The syntax is RE2 (like Go and ripgrep):',
    'no backreferences or lookaround, and matching always takes linear time. Returns `file:line: text` for',
    `each matching line (paths relative to the working directory, files in path order), at most`,
    `${LIMITS.grepMaxMatches} matches; matching lines are cut to ${LIMITS.grepMaxLineChars} characters.`,
    'Binary files, symbolic links, files over 10 MB and the .git, node_modules and .tower directories are',
    `skipped, and so are hard-linked files; only the first ${LIMITS.grepMaxScanLineChars} characters of a longer line`,
    'are searched. Use `include` to restrict the search to files matching a glob.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    // RE2 semantics: no backtracking, so `^(a+)+$` cannot take exponential time on a hostile line.
    let regex: RE2JS;
    try {
      regex = RE2JS.compile(args.pattern, args.ignore_case ? RE2JS.CASE_INSENSITIVE : 0);
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
    const counts = { tooLarge: 0, linked: 0, longLines: 0 };
    const yielder = new Yielder();
    let capped = false;
    for await (const entry of walkFiles(ctx.root, start, ctx.signal, yielder)) {
      // Reading through a symlink could read outside the working directory.
      if (entry.kind !== 'file') continue;
      if (!included(toPosixRelative(start, entry.absolute) || displayPath(ctx.root, entry.absolute))) continue;
      const room = LIMITS.grepMaxMatches - results.length;
      const found = await searchFile(ctx.root, entry, regex, room, counts, ctx.signal, yielder);
      results.push(...found.lines);
      if (found.more) {
        capped = true;
        break;
      }
      if (ctx.signal.aborted) break;
    }
    if (ctx.signal.aborted) return fail('grep was canceled');

    const notes: string[] = [];
    if (capped) notes.push(`[stopped after ${LIMITS.grepMaxMatches} matches; narrow the pattern, path or include]`);
    if (counts.tooLarge > 0) notes.push(`[${counts.tooLarge} files over 10 MB were skipped]`);
    if (counts.linked > 0) notes.push(`[${counts.linked} files were skipped: hard-linked, or changed while being opened]`);
    if (counts.longLines > 0) {
      notes.push(`[${counts.longLines} lines longer than ${LIMITS.grepMaxScanLineChars} characters were searched only in their first ${LIMITS.grepMaxScanLineChars}]`);
    }
    if (results.length === 0) {
      return ok([`no matches for /${args.pattern}/ in ${displayPath(ctx.root, start)}`, ...notes].join('\n'));
    }
    const text = [results.join('\n'), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
    return ok(await spillIfLong(text, ctx.root, ctx.callId));
  },
});

interface Counts {
  tooLarge: number;
  linked: number;
  longLines: number;
}

/**
 * Matches one file line by line, streaming it with every line capped while read. Returns at most `room`
 * result lines, and `more` when the file has further matches. Skips (and counts) what it will not read.
 */
async function searchFile(
  root: string,
  entry: WalkEntry,
  regex: RE2JS,
  room: number,
  counts: Counts,
  signal: AbortSignal,
  yielder: Yielder,
): Promise<{ lines: string[]; more: boolean }> {
  const shown = displayPath(root, entry.absolute);
  let opened;
  try {
    opened = await openForReadAt(root, entry.dir, entry.absolute, shown);
  } catch (err) {
    if (isTowerError(err) && err.code === 'path_outside_workspace') {
      counts.linked += 1;
      return { lines: [], more: false };
    }
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP') return { lines: [], more: false };
    throw err;
  }
  const { handle, stats } = opened;
  const lines: string[] = [];
  try {
    if (!stats.isFile()) return { lines, more: false };
    if (stats.size > LIMITS.grepMaxFileBytes) {
      counts.tooLarge += 1;
      return { lines, more: false };
    }
    const head = new Uint8Array(LIMITS.binarySniffBytes);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (looksBinary(head.subarray(0, bytesRead))) return { lines, more: false };
    let lineNo = 0;
    for await (const line of readLines(handle, LIMITS.grepMaxScanLineChars)) {
      lineNo += 1;
      if (signal.aborted) break;
      await yielder.maybe();
      if (line.length > line.text.length) counts.longLines += 1;
      if (!regex.test(line.text)) continue;
      if (lines.length >= room) return { lines, more: true };
      lines.push(`${shown}:${lineNo}: ${cutLine(line.text, LIMITS.grepMaxLineChars, line.length)}`);
    }
    return { lines, more: false };
  } finally {
    await handle.close();
  }
}
