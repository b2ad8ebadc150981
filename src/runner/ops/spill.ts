import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
// Straight to the files, not the executor's index: the executor's webfetch tool uses ops/webfetch.ts, which
// uses this file, and the index would close that loop.
import { LIMITS, OUTPUTS_DIR } from '../executor/limits.js';
import { displayPath, resolveInside } from '../executor/sandbox.js';
import { previewOf } from '../executor/spill.js';

export interface Spilled {
  /** The text itself when short, else its preview. */
  text: string;
  truncated?: true;
  file_path?: string;
  total_size?: number;
}

/**
 * Seed 004's truncation: a text over `maxResultChars` characters is saved whole under `.tower/outputs/` and
 * replaced by a preview (first 20 lines, at most 8,000 characters); the caller puts `truncated, file_path,
 * total_size` into the result, and `read` with `offset` pages through the file.
 */
export async function spillIfLong(text: string, root: string, taskId: string, suffix: string): Promise<Spilled> {
  if (text.length <= LIMITS.maxResultChars) return { text };
  const totalSize = Buffer.byteLength(text, 'utf8');
  // Through the sandbox like any write: a `.tower` symlink pointing outside must not redirect it.
  const file = await resolveInside(root, `${OUTPUTS_DIR}/${fileStem(taskId)}.${suffix}.txt`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, 'utf8');
  return { text: previewOf(text), truncated: true, file_path: displayPath(root, file), total_size: totalSize };
}

/** Task ids come from the control plane; keep only characters that are safe in a file name. */
function fileStem(taskId: string): string {
  const safe = taskId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  return safe === '' ? randomUUID() : safe;
}
