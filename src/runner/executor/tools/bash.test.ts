import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from '../executor.js';
import { LIMITS } from '../limits.js';
import { callTool, isRunning, makeWorkspace, type Workspace } from '../test-support.js';

const executor = createLocalExecutor({ sandbox: 'none' });
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

type Extra = Parameters<typeof callTool>[4];
const bash = (args: unknown, extra?: Extra) => callTool(executor, ws.root, 'bash', args, extra);

async function recordedPids(): Promise<number[]> {
  const text = await readFile(path.join(ws.root, 'pids.txt'), 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
}

async function runningOf(pids: number[]): Promise<number[]> {
  const alive = await Promise.all(pids.map(async (pid) => ((await isRunning(pid)) ? pid : null)));
  return alive.filter((pid): pid is number => pid !== null);
}

// bash itself, a direct background child, a background subshell and the subshell's own child.
const TREE = [
  'echo $$ > pids.txt',
  'sleep 100 & echo $! >> pids.txt',
  '( sleep 100 & echo $! >> pids.txt; wait ) &',
  'echo $! >> pids.txt',
  'sleep 0.2; echo started',
  'sleep 100',
].join('\n');

describe('bash', () => {
  it('runs in the working directory with TOWER=1 and returns output and exit code', async () => {
    const res = await bash({ command: 'pwd; echo "tower=$TOWER"; echo oops >&2; exit 3' });
    expect(res).toEqual({ is_error: false, exit_code: 3, output: `${ws.root}\ntower=1\noops\nexit code 3` });
  });

  it('has stdin closed, and says when there is no output', async () => {
    const res = await bash({ command: 'cat' });
    expect(res).toEqual({ is_error: false, exit_code: 0, output: '(no output)\nexit code 0' });
  });

  it('reports 128+N when a signal ends the command', async () => {
    expect((await bash({ command: 'kill -9 $$' })).exit_code).toBe(137);
  });

  it('streams chunks through onOutput before the command exits', async () => {
    const chunks: { stream: string; data: string; at: number }[] = [];
    const onOutput = (stream: 'stdout' | 'stderr', data: string) => chunks.push({ stream, data, at: Date.now() });
    const res = await bash({ command: 'echo a; echo e >&2; sleep 0.3; echo b' }, { onOutput });
    const endedAt = Date.now();
    expect(res.output).toBe('a\ne\nb\nexit code 0');
    expect(chunks[0]).toMatchObject({ stream: 'stdout', data: 'a\n' });
    expect(endedAt - (chunks[0]?.at ?? endedAt)).toBeGreaterThanOrEqual(200);
    expect(chunks.some((c) => c.stream === 'stderr' && c.data === 'e\n')).toBe(true);
    expect(chunks.map((c) => c.data).join('')).toBe('a\ne\nb\n');
  });

  it('on timeout kills the whole process tree and reports exit 124', async () => {
    const started = Date.now();
    const res = await bash({ command: TREE, timeout: 1 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.is_error).toBe(true);
    expect(res.exit_code).toBe(124);
    expect(res.output).toMatch(/^started\n\[command timed out after 1 seconds; its process tree was killed\]\nexit code 124$/);
    const pids = await recordedPids();
    expect(pids).toHaveLength(4);
    expect(await runningOf(pids)).toEqual([]);
  });

  it('escalates to SIGKILL when the tree ignores SIGTERM', async () => {
    const started = Date.now();
    const res = await bash({ command: "trap '' TERM; sleep 100 & echo $! > pids.txt; echo $$ >> pids.txt; sleep 100", timeout: 0.3 });
    const elapsed = Date.now() - started;
    expect(res.exit_code).toBe(124);
    expect(elapsed).toBeGreaterThanOrEqual(300 + LIMITS.killGraceMs - 100);
    expect(elapsed).toBeLessThan(300 + LIMITS.killGraceMs + 2000);
    expect(await runningOf(await recordedPids())).toEqual([]);
  });

  it('on abort kills the tree promptly and says it was canceled', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const onOutput = (_: string, data: string) => {
      if (data.includes('started')) {
        abortedAt = Date.now();
        controller.abort();
      }
    };
    const res = await bash({ command: TREE }, { signal: controller.signal, onOutput });
    expect(abortedAt).toBeGreaterThan(0);
    expect(Date.now() - abortedAt).toBeLessThan(1000);
    expect(res.is_error).toBe(true);
    expect(res.exit_code).toBeUndefined();
    expect(res.output).toContain('[command was canceled; its process tree was killed]');
    expect(await runningOf(await recordedPids())).toEqual([]);
  });

  it('does not start when already canceled', async () => {
    const controller = new AbortController();
    controller.abort();
    const res = await bash({ command: 'touch ran.txt' }, { signal: controller.signal });
    expect(res).toMatchObject({ is_error: true, output: expect.stringMatching(/canceled/) });
    await expect(access(path.join(ws.root, 'ran.txt'))).rejects.toThrow();
  });

  it('refuses a timeout above the maximum instead of clamping it', async () => {
    const res = await bash({ command: 'touch ran.txt', timeout: LIMITS.bashMaxTimeoutSec + 1 });
    expect(res.is_error).toBe(true);
    expect(res.output).toMatch(/timeout: timeout may be at most 600 seconds/);
    await expect(access(path.join(ws.root, 'ran.txt'))).rejects.toThrow();
    expect((await bash({ command: 'true', timeout: 0 })).is_error).toBe(true);
  });

  it('saves a long output whole to a file and returns a preview', async () => {
    const res = await bash({ command: 'seq 1 20000' }, { id: 'call/big 1' });
    expect(res.is_error).toBe(false);
    const full = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');
    const lines = res.output.split('\n');
    expect(lines.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    expect(res.output).not.toContain('\n21\n');
    expect(res.output).toContain(`[truncated: true, file_path: .tower/outputs/call_big_1.txt, total_size: ${full.length} bytes]`);
    expect(res.output.endsWith('exit code 0')).toBe(true);
    expect(res.output.length).toBeLessThan(LIMITS.previewChars + 1000);
    expect(await readFile(path.join(ws.root, '.tower/outputs/call_big_1.txt'), 'utf8')).toBe(full);
  });

  it('keeps at most 10 MB of output and says so', async () => {
    const res = await bash({ command: "head -c 12000000 /dev/zero | tr '\\0' a" }, { id: 'huge' });
    expect(res.exit_code).toBe(0);
    expect(res.output).toContain(`total_size: ${LIMITS.bashMaxCaptureBytes} bytes`);
    expect(res.output).toContain('[output exceeded 10 MB; the rest was discarded]');
  });

  it('ends background jobs that hold the output open, and leaves redirected ones running', async () => {
    const started = Date.now();
    const held = await bash({ command: 'sleep 100 & echo $! > pids.txt; echo done' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(held.output).toMatch(/^done\n\[background processes still attached to the output were terminated/);
    expect(held.exit_code).toBe(0);
    expect(await runningOf(await recordedPids())).toEqual([]);

    const detached = await bash({ command: 'sleep 100 > /dev/null 2>&1 & echo $! > pids.txt' });
    expect(detached.output).toBe('(no output)\nexit code 0');
    const [pid] = await recordedPids();
    expect(pid).toBeDefined();
    try {
      expect(await isRunning(pid ?? 0)).toBe(true);
    } finally {
      process.kill(pid ?? 0, 'SIGKILL');
    }
  });
});
