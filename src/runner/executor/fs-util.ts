import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LIMITS } from './limits.js';

/** The `code` of a Node system error (`ENOENT`, `EACCES`...), if it is one. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** `stat`, with "does not exist" as `null` so callers can word their own not-found message. */
export async function statOrNull(absolute: string): Promise<Stats | null> {
  try {
    return await stat(absolute);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/** True when the buffer's leading bytes hold a NUL, the same heuristic git and grep use. */
export function looksBinary(head: Uint8Array): boolean {
  return head.subarray(0, LIMITS.binarySniffBytes).includes(0);
}

/** Cuts a line to `max` characters and says how long it was, so the model knows text is missing. */
export function cutLine(line: string, max: number, fullLength = line.length): string {
  if (fullLength <= max) return line;
  return `${line.slice(0, max)} … [line cut: ${fullLength} chars]`;
}

/** Locale-independent ordering, so listings are identical on every runner. */
export function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}
