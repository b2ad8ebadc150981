import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOperation } from './dispatch.js';
import { createShellPolicy } from './shell-policy.js';
import { makeOpWorkspace, type OpWorkspace } from './test-support.js';

let ws: OpWorkspace;
beforeEach(async () => {
  ws = await makeOpWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); read its state where /proc exists.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function pids(): Promise<number[]> {
  return (await readFile(path.join(ws.root, 'pids.txt'), 'utf8')).split('\n').filter(Boolean).map(Number);
}

const TREE = 'echo $$ > pids.txt; sleep 100 & echo $! >> pids.txt; ( sleep 100 & echo $! >> pids.txt; wait ) & while [ $(wc -l < pids.txt) -lt 3 ]; do sleep 0.02; done; echo started; sleep 100';

describe('bash operation', () => {
  it('returns stdout and stderr apart with the exit code, streaming both live', async () => {
    const chunks: string[] = [];
    const res = await runOperation('bash', { command: 'echo out; echo err >&2; exit 3' }, ws.ctx({ onOutput: (s, d) => chunks.push(`${s}:${d}`) }));
    expect(res).toEqual({ success: true, exit_code: 3, result: { stdout: 'out\n', stderr: 'err\n', exit_code: 3 } });
    expect(chunks.sort()).toEqual(['stderr:err\n', 'stdout:out\n']);
  });

  it('streams output before the command ends', async () => {
    // The command cannot end until the test has seen its first line and created `go`.
    const seen: string[] = [];
    const res = await runOperation('bash', { command: 'echo first; while [ ! -e go ]; do sleep 0.05; done; echo second' }, ws.ctx({
      onOutput: (_s, d) => {
        seen.push(d);
        if (d.includes('first')) writeFileSync(path.join(ws.root, 'go'), '');
      },
    }));
    expect(seen.join('')).toBe('first\nsecond\n');
    expect(res.result).toMatchObject({ stdout: 'first\nsecond\n' });
  });

  it('runs in a workdir inside the workspace and refuses one outside', async () => {
    await mkdir(path.join(ws.root, 'sub'));
    expect((await runOperation('bash', { command: 'pwd', workdir: 'sub' }, ws.ctx())).result).toMatchObject({ stdout: `${ws.root}/sub\n` });
    expect(await runOperation('bash', { command: 'pwd', workdir: '../root-evil' }, ws.ctx())).toMatchObject({ success: false, error: expect.stringMatching(/outside/) });
    expect(await runOperation('bash', { command: 'pwd', workdir: 'nope' }, ws.ctx())).toMatchObject({ success: false, error: expect.stringMatching(/not a directory/) });
  });

  it('times out with exit 124, killing the whole tree, and refuses timeouts over 600 s', async () => {
    const res = await runOperation('bash', { command: TREE, timeout: 1 }, ws.ctx());
    expect(res).toMatchObject({ success: false, exit_code: 124, error: expect.stringMatching(/timed out after 1 seconds/) });
    expect((res.result as { stdout: string }).stdout).toBe('started\n');
    const list = await pids();
    expect(list).toHaveLength(3);
    expect(list.filter(isRunning)).toEqual([]);
    expect(await runOperation('bash', { command: 'true', timeout: 601 }, ws.ctx())).toMatchObject({ success: false, error: expect.stringMatching(/at most 600/) });
  });

  it('on cancel kills the whole tree', async () => {
    const controller = new AbortController();
    const res = await runOperation('bash', { command: TREE }, ws.ctx({
      signal: controller.signal,
      onOutput: (_s, d) => {
        if (d.includes('started')) controller.abort();
      },
    }));
    expect(res).toMatchObject({ success: false, error: expect.stringMatching(/canceled/) });
    expect((await pids()).filter(isRunning)).toEqual([]);
  });

  it('saves a long stdout whole and returns a preview that read with offset completes', async () => {
    const res = await runOperation('bash', { command: 'seq 1 20000' }, ws.ctx({ taskId: 'big' }));
    const result = res.result as { stdout: string; truncated: boolean; file_path: string; total_size: number };
    const full = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');
    expect(result).toMatchObject({ truncated: true, file_path: '.tower/outputs/big.stdout.txt', total_size: full.length });
    expect(result.stdout).toBe(Array.from({ length: 20 }, (_, i) => i + 1).join('\n'));
    const head = Buffer.byteLength(`${result.stdout}\n`);
    const rest = await runOperation('read', { path: result.file_path, offset: head }, ws.ctx());
    expect(`${result.stdout}\n${Buffer.from((rest.result as { content: string }).content, 'base64').toString()}`).toBe(full);
  });

  it('applies the operator shell policy before running anything', async () => {
    const policy = createShellPolicy({ deny: ['rm'] });
    const res = await runOperation('bash', { command: 'touch ran; ls | xargs rm' }, ws.ctx({ shellPolicy: policy }));
    expect(res).toMatchObject({ success: false, error: expect.stringMatching(/refused by the runner's shell policy: "xargs rm" matches a deny pattern|"rm" matches a deny/) });
    await expect(readFile(path.join(ws.root, 'ran'))).rejects.toThrow();
  });
});
