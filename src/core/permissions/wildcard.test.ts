import { describe, expect, it } from 'vitest';
import { compileWildcard } from './wildcard.js';

describe('compileWildcard', () => {
  const cases: Array<[pattern: string, value: string, expected: boolean]> = [
    ['git *', 'git status', true],
    ['git *', 'git push origin main', true],
    ['git *', 'git log -- src/a/b.ts', true],
    ['git *', 'git', false],
    ['git *', 'git ', true],
    ['git *', 'Git status', false],
    ['git *', 'legit status', false],
    ['git *', 'git status\nrm -rf /', true],
    ['*', '', true],
    ['*', 'anything / at all', true],
    ['ls ?', 'ls a', true],
    ['ls ?', 'ls ab', false],
    ['ls ?', 'ls ', false],
    ['npm run test', 'npm run test', true],
    ['npm run test', 'npm run test:unit', false],
    ['echo (a)|[b]+$c.', 'echo (a)|[b]+$c.', true],
    ['echo (a)|[b]+$c.', 'echo a|b+$cX', false],
    ['a\\b', 'a\\b', true],
    ['*.ts', 'src/x.ts', true],
    ['héllo *', 'héllo wörld', true],
    ['rm -rf *', 'rm -rf /', true],
    ['?', '😀', true],
  ];
  it.each(cases)('%j vs %j → %s', (pattern, value, expected) => {
    expect(compileWildcard(pattern)(value)).toBe(expected);
  });
});
