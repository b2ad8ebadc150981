import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ToolContext, ToolExecutor, ToolResult } from '../../protocol/tools.js';

/**
 * Test fixtures for the executor's tests (kept out of `*.test.ts` so several test files can share them).
 * The workspace is `<tmp>/root`, with a sibling `<tmp>/root-evil` standing for "outside": its name shares
 * the workspace's string prefix, the case a prefix-based sandbox check gets wrong.
 */
export interface Workspace {
  root: string;
  outside: string;
  cleanup(): Promise<void>;
}

export async function makeWorkspace(): Promise<Workspace> {
  // Real path, so expectations hold where the temp dir is itself a symlink (macOS /var -> /private/var).
  const base = await realpath(await mkdtemp(path.join(tmpdir(), 'tower-exec-')));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'root-evil');
  await mkdir(root);
  await mkdir(outside);
  return { root, outside, cleanup: () => rm(base, { recursive: true, force: true }) };
}

let callCounter = 0;

export function callTool(
  executor: ToolExecutor,
  workingDir: string,
  name: string,
  args: unknown,
  extra: Partial<Omit<ToolContext, 'workingDir'>> & { id?: string } = {},
): Promise<ToolResult> {
  callCounter += 1;
  const { id: _id, ...rest } = extra;
  const ctx: ToolContext = { ...rest, workingDir, signal: extra.signal ?? new AbortController().signal };
  return executor.execute({ id: extra.id ?? `call_${callCounter}`, name, args }, ctx);
}

/** True while `pid` runs. A zombie counts as dead: see `groupIsAlive` on why zombies linger here. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
