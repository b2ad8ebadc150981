import picomatch from 'picomatch';
import { RE2JS } from 're2js';
import { isTowerError, TowerError } from '../../protocol/errors.js';
import type { GrepArgs, GrepMatch, GrepResult } from '../../protocol/runner.js';
import { LIMITS } from '../executor/index.js';
import { cutLine, errnoCode, looksBinary } from '../executor/fs-util.js';
import type { FileHandle } from 'node:fs/promises';
import { openForReadAt, type OpenedFile } from '../executor/safe-open.js';
import type { OpContext } from './context.js';
import { throwIfAborted } from './fs-ops.js';
import { spillIfLong } from './spill.js';
import { walkTree } from './tree.js';

/** Lines scanned between two yields to the event loop, so a 10 MB file never blocks it for long. */
const LINES_PER_SLICE = 2000;

/**
 * `grep`: a regular expression over the workspace's text files (honouring .gitignore), line by line.
 * The expression runs on RE2 (linear time): the pattern comes from a model or a remote caller, and a
 * backtracking engine could be made to spin for minutes on one line.
 */
export async function grepOp(args: GrepArgs, ctx: OpContext): Promise<GrepResult> {
  let re: RE2JS;
  try {
    re = RE2JS.compile(args.pattern);
  } catch (err) {
    throw new TowerError('invalid_request', `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  const includes = (args.include ?? []).map((glob) => picomatch(glob, { dot: true, basename: !glob.includes('/') }));
  const included = (rel: string): boolean => includes.length === 0 || includes.some((m) => m(rel));

  const matches: GrepMatch[] = [];
  let capped = false;
  for await (const entry of walkTree(ctx.root, ctx.root, { signal: ctx.signal })) {
    // Reading through a symlink could read outside the workspace.
    if (entry.kind !== 'file' || !included(entry.rel)) continue;
    const bytes = await readSmallFile(ctx.root, entry.dir, entry.absolute, entry.rel);
    if (bytes === null) continue;
    if (looksBinary(bytes)) continue;
    const lines = bytes.toString('utf8').split(/\r?\n/);
    for (let i = 0; i < lines.length; i += 1) {
      if (i > 0 && i % LINES_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const line = lines[i] ?? '';
      if (!re.test(line)) continue;
      if (matches.length >= LIMITS.grepMaxMatches) {
        capped = true;
        break;
      }
      matches.push({ path: entry.rel, line_number: i + 1, content: cutLine(line, LIMITS.grepMaxLineChars) });
    }
    if (capped || ctx.signal.aborted) break;
  }
  throwIfAborted(ctx, 'grep');
  let text = matches.map((m) => `${m.path}:${m.line_number}: ${m.content}`).join('\n');
  if (capped) text += `\n\n[stopped after ${LIMITS.grepMaxMatches} matches; narrow the pattern or include]`;
  const spilled = await spillIfLong(text, ctx.root, ctx.taskId, 'grep');
  const { text: content, ...truncation } = spilled;
  return { matches, content, ...truncation };
}

/**
 * A file's bytes through its open directory (safe-open: a file swapped for a symlink or hard-linked is
 * skipped, as the local grep does); null when skipped or over the grep size cap.
 */
async function readSmallFile(root: string, dir: FileHandle, absolute: string, rel: string): Promise<Buffer | null> {
  let opened: OpenedFile;
  try {
    opened = await openForReadAt(root, dir, absolute, rel);
  } catch (err) {
    const code = errnoCode(err);
    if (isTowerError(err) || code === 'ENOENT' || code === 'EACCES' || code === 'ELOOP') return null;
    throw err;
  }
  try {
    if (!opened.stats.isFile() || opened.stats.size > LIMITS.grepMaxFileBytes) return null;
    return await opened.handle.readFile();
  } finally {
    await opened.handle.close();
  }
}
