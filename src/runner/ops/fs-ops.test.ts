import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOperation } from './dispatch.js';
import { makeOpWorkspace, type OpWorkspace } from './test-support.js';

let ws: OpWorkspace;
beforeEach(async () => {
  ws = await makeOpWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const op = (operation: Parameters<typeof runOperation>[0], args: unknown) => runOperation(operation, args, ws.ctx());
async function put(rel: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(ws.root, rel)), { recursive: true });
  await writeFile(path.join(ws.root, rel), content);
}

describe('read and write', () => {
  it('round-trips base64 content and reads from an offset', async () => {
    const content = Buffer.from('héllo\0world').toString('base64');
    expect(await op('write', { path: 'dir/a.bin', content })).toEqual({ success: true, result: { path: 'dir/a.bin', size: 12 } });
    expect(await op('read', { path: 'dir/a.bin' })).toEqual({ success: true, result: { content, total_size: 12 } });
    const rest = await op('read', { path: 'dir/a.bin', offset: 7, limit: 3 });
    expect(Buffer.from((rest.result as { content: string }).content, 'base64').toString()).toBe('wor');
    expect(await op('read', { path: 'dir/a.bin', offset: 100 })).toEqual({ success: true, result: { content: '', total_size: 12 } });
  });

  it('refuses escapes: "..", absolute paths outside, symlinks out and the sibling prefix', async () => {
    await writeFile(path.join(ws.outside, 'secret.txt'), 'secret');
    await symlink(path.join(ws.outside, 'secret.txt'), path.join(ws.root, 'link.txt'));
    await symlink(ws.outside, path.join(ws.root, 'linkdir'));
    for (const p of ['../root-evil/secret.txt', path.join(ws.outside, 'secret.txt'), 'link.txt', 'linkdir/secret.txt', `${ws.root}-evil/secret.txt`, '/etc/passwd']) {
      const read = await op('read', { path: p });
      expect(read, p).toMatchObject({ success: false, error: expect.stringMatching(/outside the working directory/) });
      const write = await op('write', { path: p, content: '' });
      expect(write.success, p).toBe(false);
    }
    expect(await readFile(path.join(ws.outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('refuses bad args and non-base64 content', async () => {
    expect(await op('write', { path: 'a', content: 'not base64!' })).toMatchObject({ success: false, error: 'write content must be base64' });
    expect(await op('read', {})).toMatchObject({ success: false, error: expect.stringMatching(/^invalid read args/) });
    expect(await op('read', { path: 'missing' })).toMatchObject({ success: false, error: 'file not found: missing' });
  });
});

describe('list and glob honour .gitignore', () => {
  beforeEach(async () => {
    await put('.gitignore', 'dist/\n*.log\n');
    await put('src/a.ts', 'a');
    await put('src/.gitignore', 'generated.ts\n');
    await put('src/generated.ts', 'g');
    await put('src/deep/b.ts', 'bb');
    await put('dist/out.js', 'x');
    await put('debug.log', 'x');
    await put('.git/config', 'x');
    await put('README.md', 'r');
  });

  it('lists one level or recursively, with sizes, skipping ignored paths', async () => {
    expect(await op('list', { path: '.' })).toEqual({
      success: true,
      result: { entries: [
        { path: '.gitignore', is_dir: false, size: 12 },
        { path: 'README.md', is_dir: false, size: 1 },
        { path: 'src', is_dir: true, size: 0 },
      ] },
    });
    const rec = await op('list', { path: 'src', recursive: true, ignore: ['deep/b.ts'] });
    expect((rec.result as { entries: { path: string }[] }).entries.map((e) => e.path)).toEqual(['src/.gitignore', 'src/a.ts', 'src/deep']);
  });

  it('globs files relative to the workspace', async () => {
    expect(await op('glob', { pattern: '**/*.ts' })).toEqual({ success: true, result: { matches: ['src/a.ts', 'src/deep/b.ts'] } });
    expect(await op('glob', { pattern: '*.md' })).toEqual({ success: true, result: { matches: ['README.md'] } });
    expect(await op('glob', { pattern: '../root-evil/*' })).toMatchObject({ success: false });
  });

  it('greps with matches and formatted content, honouring include', async () => {
    const res = await op('grep', { pattern: 'b+', include: ['*.ts'] });
    expect(res).toEqual({ success: true, result: { matches: [{ path: 'src/deep/b.ts', line_number: 1, content: 'bb' }], content: 'src/deep/b.ts:1: bb' } });
    expect(await op('grep', { pattern: '(' })).toMatchObject({ success: false, error: expect.stringMatching(/invalid regular expression/) });
  });
});

describe('large outputs', () => {
  it('spills a long grep result and reads the rest back with offset', async () => {
    await put('many.txt', Array.from({ length: 400 }, (_, i) => `match ${String(i).padStart(3, '0')} ${'y'.repeat(100)}`).join('\n'));
    const res = await runOperation('grep', { pattern: '^match' }, ws.ctx({ taskId: 'g1' }));
    const result = res.result as { content: string; truncated: boolean; file_path: string; total_size: number; matches: unknown[] };
    expect(result).toMatchObject({ truncated: true, file_path: '.tower/outputs/g1.grep.txt' });
    expect(result.matches).toHaveLength(400);
    expect(result.content.split('\n')).toHaveLength(20);
    const head = await op('read', { path: result.file_path, limit: 100 });
    const tail = await op('read', { path: result.file_path, offset: 100 });
    const whole = Buffer.concat([head, tail].map((r) => Buffer.from((r.result as { content: string }).content, 'base64'))).toString();
    expect(Buffer.byteLength(whole)).toBe(result.total_size);
    expect(whole.split('\n')).toHaveLength(400);
  });
});
