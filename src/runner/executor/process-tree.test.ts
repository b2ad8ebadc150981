import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryProcessRegistry } from '../process-registry.js';
import { createLocalExecutor } from './executor.js';
import { callTool, isRunning, makeWorkspace, type Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

// Two escapes from bash's process group: a `setsid` child that stays bash's child, and a double-forked
// `setsid` grandchild that is re-parented away from bash entirely. Both record their pid, then say so.
const ESCAPES = [
  'setsid bash -c \'echo $$ >> pids.txt; exec sleep 300\' > /dev/null 2>&1 &',
  '( setsid bash -c \'echo $$ >> pids.txt; exec sleep 300\' > /dev/null 2>&1 & )',
  'while [ "$(wc -l < pids.txt 2>/dev/null || echo 0)" -lt 2 ]; do sleep 0.02; done',
  'echo ready',
  'sleep 300',
].join('\n');

async function pids(): Promise<number[]> {
  return (await readFile(path.join(ws.root, 'pids.txt'), 'utf8')).split('\n').filter(Boolean).map(Number);
}

async function alive(list: number[]): Promise<number[]> {
  const flags = await Promise.all(list.map((pid) => isRunning(pid)));
  return list.filter((_, i) => flags[i]);
}

describe('bash process tree (no sandbox)', () => {
  it('kills children that called setsid, even re-parented ones, on timeout', async () => {
    const registry = new MemoryProcessRegistry();
    const executor = createLocalExecutor({ sandbox: 'none', processes: registry });
    const res = await callTool(executor, ws.root, 'bash', { command: ESCAPES, timeout: 1 });
    expect(res.exit_code).toBe(124);
    const escaped = await pids();
    expect(escaped).toHaveLength(2);
    expect(await alive(escaped)).toEqual([]);
    expect(registry.records.size).toBe(0);
  });

  it('kills children that called setsid on abort', async () => {
    const executor = createLocalExecutor({ sandbox: 'none' });
    const abort = new AbortController();
    const res = await callTool(executor, ws.root, 'bash', { command: ESCAPES }, {
      signal: abort.signal,
      onOutput: (_stream, data) => {
        if (data.includes('ready')) abort.abort();
      },
    });
    expect(res.is_error).toBe(true);
    expect(res.output).toContain('canceled');
    const escaped = await pids();
    expect(escaped).toHaveLength(2);
    expect(await alive(escaped)).toEqual([]);
  });

  it('records the running command in the registry before it runs, and forgets it when it ends', async () => {
    const registry = new MemoryProcessRegistry();
    const executor = createLocalExecutor({ sandbox: 'none', processes: registry });
    const seen: unknown[] = [];
    const res = await callTool(executor, ws.root, 'bash', { command: 'echo "marker=$TOWER_TOOL_RUN"' }, {
      onOutput: () => seen.push(...registry.records.values()),
    });
    expect(res.is_error).toBe(false);
    // Written before the spawn (the pid is added once known), so a crash at any moment leaves a record.
    expect(seen[0]).toMatchObject({ command: 'echo "marker=$TOWER_TOOL_RUN"', working_dir: ws.root });
    const id = (seen[0] as { id: string }).id;
    expect(res.output).toContain(`marker=${id}`);
    expect(registry.records.size).toBe(0);
  });
});

describe('bash process tree (bwrap)', () => {
  it('ends every process of the sandbox, setsid or not, on timeout', async () => {
    const registry = new MemoryProcessRegistry();
    const executor = createLocalExecutor({ sandbox: 'bwrap', processes: registry });
    // Inside the sandbox pids are namespace pids, so look for survivors by their unique command line.
    const res = await callTool(executor, ws.root, 'bash', {
      command: '(setsid sleep 301.5 > /dev/null 2>&1 &); setsid sleep 301.5 > /dev/null 2>&1 & echo ready; sleep 300',
      timeout: 1,
    });
    expect(res.exit_code).toBe(124);
    const { readdir } = await import('node:fs/promises');
    const survivors: string[] = [];
    for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes('301.5') && (await isRunning(Number(pid)))) survivors.push(cmd);
    }
    expect(survivors).toEqual([]);
    expect(registry.records.size).toBe(0);
  });
});
