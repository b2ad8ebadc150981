import { describe, expect, it } from 'vitest';
import { colorsFor } from './color.js';
import { formatToolResult, summarizeResult } from './tool-lines.js';

const plain = colorsFor({ isTTY: false }, {});
const listing = (n: number): string => Array.from({ length: n }, (_, i) => `file${i}.txt`).join('\n');

describe('summarizeResult', () => {
  it.each<[string, string, string]>([
    ['bash', 'hi\ndone\nexit code 0', '2 lines, exit 0'],
    ['bash', 'hi\nexit code 3', '1 line, exit 3'],
    ['bash', '(no output)\nexit code 0', 'no output, exit 0'],
    ['bash', 'line\n[command timed out after 5 seconds; its process tree was killed]\nexit code 124', '2 lines, exit 124'],
    ['list', listing(17), '17 entries'],
    ['list', 'only.txt', '1 entry'],
    ['list', `${listing(3)}\n\n[497 more entries not shown (500 in total); use glob with a pattern to narrow down]`, '500 entries'],
    ['list', '(src is empty)', '(src is empty)'],
    ['grep', 'no matches', 'no matches'],
    ['read', 'a\nb\nc', '3 lines'],
    ['write', 'wrote 12 bytes to a.txt\n', 'wrote 12 bytes to a.txt'],
    ['bash', 'exit code 0 is a fine phrase', 'exit code 0 is a fine phrase'],
  ])('%s: %j -> %s', (tool, result, summary) => {
    expect(summarizeResult(tool, result).summary).toBe(summary);
  });
});

describe('formatToolResult', () => {
  it('shows a short result in full under its summary', () => {
    expect(formatToolResult(plain, { tool: 'bash', isError: false, result: 'hi\ndone\nexit code 0' })).toBe(
      '✓ 2 lines, exit 0\n    hi\n    done',
    );
  });

  it('shows only the summary of a long result', () => {
    expect(formatToolResult(plain, { tool: 'list', isError: false, result: listing(17), labeled: true })).toBe(
      '✓ list: 17 entries',
    );
  });

  it('keeps a one-line result on one line, and marks errors', () => {
    expect(formatToolResult(plain, { tool: 'read', isError: true, result: 'ENOENT: no such file' })).toBe('✗ ENOENT: no such file');
    expect(formatToolResult(plain, { tool: 'bash', isError: true, result: 'boom\nexit code 1', labeled: true })).toBe(
      '✗ bash: 1 line, exit 1\n    boom',
    );
  });
});

describe('summarizeResult edges', () => {
  it('ignores blank lines around the result', () => {
    expect(summarizeResult('read', '\n\nfirst\nsecond\n\n')).toEqual({ summary: '2 lines', lines: ['first', 'second'] });
  });

  it("puts an error's first line in the summary", () => {
    expect(summarizeResult('read', 'ENOENT: no such file\nat x', true)).toEqual({ summary: 'ENOENT: no such file', lines: ['at x'] });
  });
});
