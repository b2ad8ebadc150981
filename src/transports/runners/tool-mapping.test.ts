import { describe, expect, it } from 'vitest';
import { toOperation, toToolResult } from './tool-mapping.js';

describe('tool calls as seed-004 operations', () => {
  it('maps built-in tool args to operations, refusing junk with a message for the model', () => {
    expect(toOperation('write', { path: 'a.txt', content: 'hé' })).toEqual({ operation: 'write', args: { path: 'a.txt', content: Buffer.from('hé').toString('base64') } });
    expect(toOperation('glob', { pattern: '*.ts', path: 'src' })).toEqual({ operation: 'glob', args: { pattern: 'src/*.ts' } });
    expect(toOperation('grep', { pattern: 'x', path: 'lib' })).toEqual({ operation: 'grep', args: { pattern: 'x', include: ['lib/**'] } });
    expect(toOperation('list', undefined)).toEqual({ operation: 'list', args: { path: '.' } });
    expect(toOperation('bash', { command: 'ls', timeout: 5 })).toEqual({ operation: 'bash', args: { command: 'ls', timeout: 5 } });
    expect(toOperation('webfetch', { url: 'https://x.test/', format: 'text', timeout: 9 })).toEqual({ operation: 'webfetch', args: { url: 'https://x.test/', format: 'text', timeout: 9 } });
    expect(toOperation('webfetch', { url: 'https://x.test/' })).toEqual({ operation: 'webfetch', args: { url: 'https://x.test/' } });
    for (const [tool, args] of [['read', {}], ['write', { path: 1 }], ['bash', 'ls'], ['glob', null], ['bash', { command: 'x', timeout: -1 }], ['webfetch', { url: 'https://x.test/', format: 'pdf' }], ['webfetch', {}]] as const) {
      expect(toOperation(tool, args)).toEqual(expect.stringMatching(new RegExp(`^invalid ${tool} arguments`)));
    }
  });

  it('turns results into tool text; failures and wrong shapes become errors', () => {
    expect(toToolResult('read', { task_id: 't', success: true, result: { content: Buffer.from('hi').toString('base64'), total_size: 2 } })).toEqual({ output: 'hi', is_error: false });
    expect(toToolResult('read', { task_id: 't', success: false, error: 'path is outside the working directory' })).toEqual({ output: 'path is outside the working directory', is_error: true });
    expect(toToolResult('list', { task_id: 't', success: true, result: { nope: 1 } })).toMatchObject({ is_error: true, output: expect.stringContaining('wrong shape') });
    expect(toToolResult('bash', { task_id: 't', success: true, exit_code: 3, result: { stdout: 'a\n', stderr: 'b\n', exit_code: 3 } })).toEqual({ output: 'a\n[stderr]\nb\n[exit code 3]', is_error: true, exit_code: 3 });
    expect(toToolResult('bash', { task_id: 't', success: false, error: 'canceled' })).toMatchObject({ output: 'canceled', is_error: true });
    expect(toToolResult('webfetch', { task_id: 't', success: true, result: { content: '# Hi', url: 'https://x.test/' } })).toEqual({ output: '# Hi', is_error: false });
    expect(toToolResult('webfetch', { task_id: 't', success: true, result: { content: 'head', url: 'u', truncated: true, total_size: 99, file_path: '.tower/outputs/t.webfetch.txt' } }).output).toContain('saved whole to .tower/outputs/t.webfetch.txt');
    expect(toToolResult('webfetch', { task_id: 't', success: false, error: 'refusing to fetch 127.0.0.1' })).toEqual({ output: 'refusing to fetch 127.0.0.1', is_error: true });
    expect(toToolResult('grep', { task_id: 't', success: true, result: { matches: [], content: '', truncated: true, total_size: 9, file_path: '.tower/outputs/x' } }).output).toContain('saved whole to .tower/outputs/x');
  });
});
