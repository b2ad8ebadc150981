import { lstat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type {
  GlobArgs,
  GlobResult,
  ListArgs,
  ListEntry,
  ListResult,
  ReadArgs,
  ReadResult,
  WriteArgs,
  WriteResult,
} from '../../protocol/runner.js';
import { TowerError } from '../../protocol/errors.js';
import { displayPath, resolveInsideRoot } from '../executor/index.js';
import { errnoCode, statOrNull } from '../executor/fs-util.js';
import { openForRead, writeInside } from '../executor/safe-open.js';
import type { OpContext } from './context.js';
import { walkTree } from './tree.js';

/** Bytes one `read` returns at most: base64 grows it by a third, and the frame must stay under 16 MiB. */
export const READ_MAX_BYTES = 8 * 1024 * 1024;
/** Entries one `list` or `glob` returns at most. */
export const LIST_MAX_ENTRIES = 10_000;

/**
 * `read`: bytes from `offset` (default 0), at most `limit` (default and max 8 MiB), base64-encoded. Opened
 * like the local `read` tool (`executor/safe-open.ts`): a path component swapped for a symlink after
 * `resolveInside` checked it is refused, and so is a hard-linked file.
 */
export async function readOp(args: ReadArgs, ctx: OpContext): Promise<ReadResult> {
  const file = await resolveInsideRoot(ctx.root, args.path);
  const shown = displayPath(ctx.root, file);
  const { handle, stats: st } = await openForRead(ctx.root, file, shown).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') throw new TowerError('not_found', `file not found: ${shown}`);
    throw err;
  });
  try {
    if (!st.isFile()) throw new TowerError('invalid_request', `${shown} is not a regular file`);
    const size = Number(st.size);
    const offset = Math.min(args.offset ?? 0, size);
    const length = Math.min(args.limit ?? READ_MAX_BYTES, READ_MAX_BYTES, size - offset);
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { content: buf.subarray(0, done).toString('base64'), total_size: size };
  } finally {
    await handle.close();
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `write`: `content` is base64; parent directories are created. Written like the local `write` tool (safe-open). */
export async function writeOp(args: WriteArgs, ctx: OpContext): Promise<WriteResult> {
  if (args.content.length % 4 !== 0 || !BASE64.test(args.content)) {
    throw new TowerError('invalid_request', 'write content must be base64');
  }
  const file = await resolveInsideRoot(ctx.root, args.path);
  const existing = await statOrNull(file);
  if (existing?.isDirectory()) throw new TowerError('invalid_request', `${displayPath(ctx.root, file)} is a directory`);
  const bytes = Buffer.from(args.content, 'base64');
  await writeInside(ctx.root, file, bytes);
  return { path: displayPath(ctx.root, file), size: bytes.length };
}

/** `list`: entries of a directory (recursively on request), honouring .gitignore and `ignore`. */
export async function listOp(args: ListArgs, ctx: OpContext): Promise<ListResult> {
  const dir = await resolveInsideRoot(ctx.root, args.path);
  const st = await statOrNull(dir);
  if (st === null) throw new TowerError('not_found', `directory not found: ${displayPath(ctx.root, dir)}`);
  if (!st.isDirectory()) throw new TowerError('invalid_request', `${displayPath(ctx.root, dir)} is not a directory`);
  const entries: ListEntry[] = [];
  const walk = walkTree(ctx.root, dir, { recursive: args.recursive === true, ignore: args.ignore ?? [], signal: ctx.signal });
  for await (const entry of walk) {
    if (entries.length >= LIST_MAX_ENTRIES) break;
    // lstat: a symlink's own size, never its target's (which may be outside the workspace).
    const size = entry.kind === 'file' ? (await lstat(entry.via)).size : 0;
    entries.push({ path: entry.rel, is_dir: entry.kind === 'dir', size });
  }
  throwIfAborted(ctx, 'list');
  return { entries };
}

/** `glob`: files matching a pattern relative to the workspace, honouring .gitignore, in path order. */
export async function globOp(args: GlobArgs, ctx: OpContext): Promise<GlobResult> {
  const pattern = args.pattern.replace(/^\.\//, '');
  if (path.posix.isAbsolute(pattern) || pattern.split('/').includes('..')) {
    throw new TowerError('path_outside_workspace', `glob pattern ${JSON.stringify(args.pattern)} must be relative to the workspace, without ".."`);
  }
  const isMatch = picomatch(pattern, { dot: true });
  const matches: string[] = [];
  for await (const entry of walkTree(ctx.root, ctx.root, { signal: ctx.signal })) {
    if (entry.kind === 'dir') continue;
    if (!isMatch(entry.rel)) continue;
    matches.push(entry.rel);
    if (matches.length >= LIST_MAX_ENTRIES) break;
  }
  throwIfAborted(ctx, 'glob');
  return { matches };
}

export function throwIfAborted(ctx: OpContext, what: string): void {
  if (ctx.signal.aborted) throw new TowerError('tool_failed', `${what} was canceled`);
}
