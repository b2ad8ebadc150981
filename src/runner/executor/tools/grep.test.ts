import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
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

const grep = (args: unknown, id?: string) => callTool(executor, ws.root, 'grep', args, id ? { id } : {});

async function put(rel: string, content: string | Buffer): Promise<void> {
  const file = path.join(ws.root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

describe('grep', () => {
  it('returns file:line: text for each match, files in path order', async () => {
    await put('src/b.ts', 'const x = 1;\nfunction beta() {}\n');
    await put('src/a.ts', 'function alpha() {}\n// nothing\nfunction again() {}\n');
    await put('notes.md', 'functions, in prose\n');
    const res = await grep({ pattern: 'function\\s+\\w+' });
    expect(res).toEqual({
      is_error: false,
      output: 'src/a.ts:1: function alpha() {}\nsrc/a.ts:3: function again() {}\nsrc/b.ts:2: function beta() {}',
    });
  });

  it('filters by include glob, searches a single file, and ignores case on request', async () => {
    await put('src/a.ts', 'Hello\n');
    await put('src/deep/b.ts', 'hello\n');
    await put('src/c.md', 'hello\n');
    expect((await grep({ pattern: 'hello', include: '*.ts' })).output).toBe('src/deep/b.ts:1: hello');
    expect((await grep({ pattern: 'hello', include: '*.ts', ignore_case: true })).output).toBe(
      'src/a.ts:1: Hello\nsrc/deep/b.ts:1: hello',
    );
    expect((await grep({ pattern: 'hello', include: 'deep/*.ts', path: 'src' })).output).toBe('src/deep/b.ts:1: hello');
    expect((await grep({ pattern: 'hello', path: 'src/c.md' })).output).toBe('src/c.md:1: hello');
  });

  it('skips binary files, symlinks, .git and node_modules', async () => {
    await put('ok.txt', 'needle\n');
    await put('bin.dat', Buffer.concat([Buffer.from('needle\n'), Buffer.from([0, 1, 2])]));
    await put('.git/objects/x', 'needle\n');
    await put('node_modules/p/index.js', 'needle\n');
    await writeFile(path.join(ws.outside, 'secret.txt'), 'needle\n');
    await symlink(path.join(ws.outside, 'secret.txt'), path.join(ws.root, 'link.txt'));
    expect((await grep({ pattern: 'needle' })).output).toBe('ok.txt:1: needle');
  });

  it('caps matches with a note and spills a long result to a file with a preview', async () => {
    const long = `match ${'y'.repeat(LIMITS.grepMaxLineChars + 100)}`;
    await put('many.txt', Array.from({ length: LIMITS.grepMaxMatches + 50 }, () => long).join('\n'));
    const res = await grep({ pattern: '^match' }, 'grep_call');
    expect(res.is_error).toBe(false);
    expect(res.output).toMatch(/\[truncated: true, file_path: \.tower\/outputs\/grep_call\.txt, total_size: \d+ bytes\]/);
    expect(res.output.split('\n')[0]).toMatch(/^many\.txt:1: match y+ … \[line cut: \d+ chars\]$/);
    const saved = await readFile(path.join(ws.root, '.tower/outputs/grep_call.txt'), 'utf8');
    expect(saved.split('\n').filter((l) => l.startsWith('many.txt:'))).toHaveLength(LIMITS.grepMaxMatches);
    expect(saved).toContain(`[stopped after ${LIMITS.grepMaxMatches} matches`);
  });

  it('reports no matches plainly and an invalid regex clearly', async () => {
    await put('a.txt', 'x\n');
    expect(await grep({ pattern: 'zzz' })).toEqual({ is_error: false, output: 'no matches for /zzz/ in .' });
    const bad = await grep({ pattern: 'foo(' });
    expect(bad.is_error).toBe(true);
    expect(bad.output).toMatch(/^invalid regular expression: .*foo\(/);
  });
});
