import { spawn } from 'node:child_process';
import { link, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from './executor.js';
import { callTool, makeWorkspace, type Workspace } from './test-support.js';

/**
 * Races between the path check and the open. A helper process swaps `root/d` between a real directory and
 * a symlink to the outside directory as fast as it can, while the file tools read and write through `d`.
 */
const executor = createLocalExecutor({ sandbox: 'none' });
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
  await mkdir(path.join(ws.root, 'd'));
  await writeFile(path.join(ws.root, 'd', 'file.txt'), 'inside\n');
  await writeFile(path.join(ws.outside, 'file.txt'), 'OUTSIDE\n');
  await writeFile(path.join(ws.outside, 'outside-only.txt'), '');
});
afterEach(async () => {
  await ws.cleanup();
});

const SWAPPER = `
const fs = require('node:fs');
process.chdir(process.argv[1]);
process.stdout.write('go\\n');
for (let i = 0; i < Number(process.argv[2]); i++) {
  try { fs.renameSync('d', 'd.real'); fs.symlinkSync('../root-evil', 'd'); fs.unlinkSync('d'); fs.renameSync('d.real', 'd'); } catch {}
}
`;

async function withSwapper(iterations: number, work: (running: () => boolean) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', SWAPPER, ws.root, String(iterations)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let running = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (running = false));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  try {
    await work(() => running);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe('file tools under a concurrent symlink swap', () => {
  it('never read or list outside content and never write outside', async () => {
    const outputs: string[] = [];
    let writes = 0;
    await withSwapper(200_000, async (running) => {
      for (let i = 0; i < 400 && running(); i++) {
        outputs.push((await callTool(executor, ws.root, 'read', { path: 'd/file.txt' })).output);
        outputs.push((await callTool(executor, ws.root, 'grep', { pattern: 'OUTS[I]DE|inside', path: 'd' })).output);
        outputs.push((await callTool(executor, ws.root, 'list', { path: 'd' })).output);
        outputs.push((await callTool(executor, ws.root, 'glob', { pattern: 'd/*' })).output);
        await callTool(executor, ws.root, 'write', { path: `d/new-${i}.txt`, content: 'x' });
        writes += 1;
      }
    });
    expect(writes).toBeGreaterThan(10);
    for (const out of outputs) {
      expect(out).not.toContain('OUTSIDE');
      expect(out).not.toContain('outside-only');
    }
    expect(outputs.some((o) => o.includes('inside'))).toBe(true);
    expect((await readdir(ws.outside)).sort()).toEqual(['file.txt', 'outside-only.txt']);
    expect(await readFile(path.join(ws.outside, 'file.txt'), 'utf8')).toBe('OUTSIDE\n');
  });
});

describe('hard links to outside files', () => {
  beforeEach(async () => {
    await writeFile(path.join(ws.outside, 'secret.txt'), 'top secret\n');
    await link(path.join(ws.outside, 'secret.txt'), path.join(ws.root, 'linked.txt'));
  });

  it('are not readable through read or grep', async () => {
    const read = await callTool(executor, ws.root, 'read', { path: 'linked.txt' });
    expect(read.is_error).toBe(true);
    expect(read.output).toContain('hard links');
    expect(read.output).not.toContain('top secret');
    const grep = await callTool(executor, ws.root, 'grep', { pattern: 'secret' });
    expect(grep.output).not.toContain('top secret');
    expect(grep.output).toContain('1 files were skipped');
  });

  it('are replaced, not written through, by write', async () => {
    const res = await callTool(executor, ws.root, 'write', { path: 'linked.txt', content: 'mine\n' });
    expect(res.is_error).toBe(false);
    expect(await readFile(path.join(ws.outside, 'secret.txt'), 'utf8')).toBe('top secret\n');
    expect(await readFile(path.join(ws.root, 'linked.txt'), 'utf8')).toBe('mine\n');
  });
});
