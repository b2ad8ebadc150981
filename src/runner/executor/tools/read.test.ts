import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from '../executor.js';
import { LIMITS } from '../limits.js';
import { callTool, makeWorkspace, type Workspace } from '../test-support.js';

const executor = createLocalExecutor();
let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const read = (args: unknown) => callTool(executor, ws.root, 'read', args);
const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${String(from + i).padStart(6, ' ')}\tline ${from + i}`).join('\n');

describe('read', () => {
  it('returns numbered lines like cat -n', async () => {
    await writeFile(path.join(ws.root, 'a.txt'), 'alpha\nbeta\r\ngamma\n');
    const res = await read({ path: 'a.txt' });
    expect(res.is_error).toBe(false);
    expect(res.output).toBe('     1\talpha\n     2\tbeta\n     3\tgamma');
  });

  it('honours offset and limit and says how to continue', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n');
    await writeFile(path.join(ws.root, 'f.txt'), lines);
    const res = await read({ path: 'f.txt', offset: 10, limit: 5 });
    expect(res.output).toContain(numbered(10, 14));
    expect(res.output).not.toContain('line 15');
    expect(res.output).toMatch(/truncated: showing lines 10-14; more lines follow\. Continue with offset=15/);

    const tail = await read({ path: 'f.txt', offset: 48 });
    expect(tail.output).toBe(numbered(48, 50));
  });

  it('defaults to the first 2000 lines', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => `line ${i + 1}`).join('\n');
    await writeFile(path.join(ws.root, 'big.txt'), lines);
    const res = await read({ path: 'big.txt' });
    expect(res.output).toContain('  2000\tline 2000');
    expect(res.output).not.toContain('line 2001');
    expect(res.output).toContain('offset=2001');
  });

  it('cuts long lines and caps the total size', async () => {
    const long = 'x'.repeat(5000);
    await writeFile(path.join(ws.root, 'long.txt'), Array.from({ length: 100 }, () => long).join('\n'));
    const res = await read({ path: 'long.txt' });
    expect(res.output).toContain('[line cut: 5000 chars]');
    expect(res.output.length).toBeLessThan(LIMITS.readMaxChars + 500);
    expect(res.output).toMatch(/100000-character cap was reached\. Continue with offset=\d+/);
  });

  it('reports an offset past the end and an empty file', async () => {
    await writeFile(path.join(ws.root, 'three.txt'), 'a\nb\nc\n');
    await writeFile(path.join(ws.root, 'empty.txt'), '');
    const past = await read({ path: 'three.txt', offset: 10 });
    expect(past.is_error).toBe(true);
    expect(past.output).toMatch(/offset 10 is past the end of three\.txt, which has 3 lines/);
    const empty = await read({ path: 'empty.txt' });
    expect(empty).toMatchObject({ is_error: false, output: '(empty.txt is empty)' });
  });

  it('refuses directories, binary files and missing files clearly', async () => {
    await mkdir(path.join(ws.root, 'sub'));
    await writeFile(path.join(ws.root, 'bin.dat'), Buffer.from([0x50, 0x4b, 0x00, 0x01, 0x02]));
    expect(await read({ path: 'sub' })).toMatchObject({ is_error: true, output: expect.stringMatching(/sub is a directory.*list tool/) });
    expect(await read({ path: 'bin.dat' })).toMatchObject({ is_error: true, output: expect.stringMatching(/binary file/) });
    expect(await read({ path: 'nope.txt' })).toMatchObject({ is_error: true, output: 'file not found: nope.txt' });
  });

  it('rejects bad arguments with a result naming the problem', async () => {
    const res = await read({ path: 'a.txt', offset: 0 });
    expect(res.is_error).toBe(true);
    expect(res.output).toMatch(/invalid arguments for read: offset:/);
    expect((await read({})).output).toMatch(/path:/);
  });
});
