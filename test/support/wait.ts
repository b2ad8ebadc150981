import { readFileSync } from 'node:fs';

/** Polls `check` until it holds; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for a condition`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * True while the process runs. A zombie counts as dead: PID 1 in some containers never reaps orphans,
 * so `kill(pid, 0)` alone would report killed processes as alive.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
