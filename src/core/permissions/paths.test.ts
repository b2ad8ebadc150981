import { describe, expect, it } from 'vitest';
import { normalizePathGlob, normalizePathValue } from './paths.js';

describe('normalizePathValue', () => {
  const cases: Array<[value: string, workingDir: string | undefined, expected: string]> = [
    ['./x', undefined, 'x'],
    ['././x', undefined, 'x'],
    ['src//a.ts', undefined, 'src/a.ts'],
    ['src/x/../a.ts', undefined, 'src/a.ts'],
    ['src/../../etc', undefined, '../etc'],
    ['src/', undefined, 'src'],
    ['.', undefined, '.'],
    ['/', undefined, '/'],
    ['/etc/passwd', undefined, '/etc/passwd'],
    ['/repo/src/a.ts', '/repo', 'src/a.ts'],
    ['/repo', '/repo', '.'],
    ['/repo/../etc', '/repo', '/etc'],
    ['/repository/a', '/repo', '/repository/a'],
    ['/repo/..hidden', '/repo', '..hidden'],
  ];
  it.each(cases)('%j (working dir %j) → %j', (value, workingDir, expected) => {
    expect(normalizePathValue(value, workingDir)).toBe(expected);
  });
});

describe('normalizePathGlob', () => {
  it('drops leading ./ only', () => {
    expect(normalizePathGlob('./src/**')).toBe('src/**');
    expect(normalizePathGlob('././src/*')).toBe('src/*');
    expect(normalizePathGlob('src/./a')).toBe('src/./a');
    expect(normalizePathGlob('**/*.ts')).toBe('**/*.ts');
  });
});
