import type { FileHandle } from 'node:fs/promises';
import { z } from 'zod';
import { cutLine, errnoCode, looksBinary } from '../fs-util.js';
import { LIMITS } from '../limits.js';
import { readLines } from '../line-reader.js';
import { openForRead } from '../safe-open.js';
import { displayPath, resolveInside } from '../sandbox.js';
import { defineTool, fail, ok } from '../tool.js';

const schema = z.object({
  path: z.string().describe('File to read, relative to the working directory.'),
  offset: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('1-based line number to start at. Use it to continue after a truncated read.'),
  limit: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`Maximum number of lines to return (default ${LIMITS.readDefaultLines}).`),
});

export const readTool = defineTool({
  name: 'read',
  description: [
    'Read a text file from the working directory. Paths are relative to the working directory; absolute',
    'paths are accepted only inside it.',
    `Returns numbered lines like \`cat -n\` (line number, tab, text), at most ${LIMITS.readDefaultLines} lines`,
    `by default and ${LIMITS.readMaxChars} characters in total; lines longer than ${LIMITS.maxLineChars}`,
    'characters are cut. When the result is truncated it says so and gives the `offset` to continue from.',
    'Directories (use `list`) and binary files are refused.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    const file = await resolveInside(ctx.root, args.path);
    const shown = displayPath(ctx.root, file);
    let opened;
    try {
      opened = await openForRead(ctx.root, file, shown);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return fail(`file not found: ${shown}`);
      throw err;
    }
    const { handle, stats } = opened;
    let page: Page;
    const offset = args.offset ?? 1;
    try {
      if (stats.isDirectory()) return fail(`${shown} is a directory, not a file; use the list tool to see its entries`);
      if (!stats.isFile()) return fail(`${shown} is not a regular file`);
      const head = new Uint8Array(LIMITS.binarySniffBytes);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      if (looksBinary(head.subarray(0, bytesRead))) {
        return fail(`${shown} looks like a binary file (it has a NUL byte in its first 8 KB); read only shows text`);
      }
      page = await readPage(handle, offset, args.limit ?? LIMITS.readDefaultLines, ctx.signal);
    } finally {
      await handle.close();
    }
    if (ctx.signal.aborted) return fail('read was canceled');

    if (page.totalLines === 0 && !page.more) return ok(`(${shown} is empty)`);
    if (page.lines.length === 0) {
      return fail(`offset ${offset} is past the end of ${shown}, which has ${page.totalLines} lines`);
    }
    const last = offset + page.lines.length - 1;
    let text = page.lines.join('\n');
    if (page.more) {
      const reason = page.charCapHit ? `the ${LIMITS.readMaxChars}-character cap was reached` : 'more lines follow';
      text += `\n\n[truncated: showing lines ${offset}-${last}; ${reason}. Continue with offset=${last + 1}.]`;
    }
    return ok(text);
  },
});

interface Page {
  /** Formatted lines, `cat -n` style. */
  lines: string[];
  /** Lines seen; the file's full line count when `more` is false. */
  totalLines: number;
  /** True when the file goes on after the returned lines. */
  more: boolean;
  charCapHit: boolean;
}

/**
 * Streams the file line by line with each line capped while it is read, so neither a huge file nor a huge
 * single line is ever held in memory.
 */
async function readPage(handle: FileHandle, offset: number, limit: number, signal: AbortSignal): Promise<Page> {
  const lines: string[] = [];
  let lineNo = 0;
  let chars = 0;
  let more = false;
  let charCapHit = false;
  for await (const line of readLines(handle, LIMITS.maxLineChars + 1)) {
    if (signal.aborted) break;
    lineNo += 1;
    if (lineNo < offset) continue;
    if (lines.length >= limit) {
      more = true;
      break;
    }
    const formatted = `${String(lineNo).padStart(6, ' ')}\t${cutLine(line.text, LIMITS.maxLineChars, line.length)}`;
    if (lines.length > 0 && chars + formatted.length > LIMITS.readMaxChars) {
      charCapHit = true;
      more = true;
      break;
    }
    lines.push(formatted);
    chars += formatted.length + 1;
  }
  return { lines, totalLines: lineNo, more, charCapHit };
}
