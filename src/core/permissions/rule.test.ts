import { describe, expect, it } from 'vitest';
import { isTowerError } from '../../protocol/errors.js';
import { parseRule } from './rule.js';

function parseError(rule: string): string {
  try {
    parseRule(rule);
  } catch (err) {
    if (isTowerError(err) && err.code === 'invalid_request') return err.message;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(rule)} to be refused`);
}

describe('parseRule: accepted rules', () => {
  const cases: Array<[rule: string, tool: string, conditions: Array<[key: string, pattern: string, kind: string]>]> = [
    ['read', 'read', []],
    ['  read  ', 'read', []],
    ['mcp_*', 'mcp_*', []],
    ['*', '*', []],
    ['bash:cmd=git *', 'bash', [['command', 'git *', 'command']]],
    ['bash:command=git *', 'bash', [['command', 'git *', 'command']]],
    ['bash: cmd = git status ', 'bash', [['command', 'git status', 'command']]],
    ['write:path=src/**', 'write', [['path', 'src/**', 'path']]],
    ['write:file=*.md', 'write', [['file', '*.md', 'path']]],
    ['list:dir=docs', 'list', [['dir', 'docs', 'path']]],
    ['grep:pattern=TODO*,path=src/**', 'grep', [['pattern', 'TODO*', 'text'], ['path', 'src/**', 'path']]],
    ['bash:cmd=echo a,b', 'bash', [['command', 'echo a,b', 'command']]],
    ['write:path=src/{a,b}/**', 'write', [['path', 'src/{a,b}/**', 'path']]],
    ['bash:cmd=git *,cmd=* --dry-run', 'bash', [['command', 'git *', 'command'], ['command', '* --dry-run', 'command']]],
    ['fetch:url=https://example.com/*', 'fetch', [['url', 'https://example.com/*', 'text']]],
    ['bash:cmd=a=b', 'bash', [['command', 'a=b', 'command']]],
    // A comma not followed by `key=` belongs to the value.
    ['bash:cmd=echo x,', 'bash', [['command', 'echo x,', 'command']]],
    ['weird\\:tool', 'weird\\:tool', []],
  ];
  it.each(cases)('%j', (source, tool, conditions) => {
    const rule = parseRule(source);
    expect(rule.source).toBe(source.trim());
    expect(rule.toolGlob).toBe(tool);
    expect(rule.conditions.map((c) => [c.key, c.pattern, c.kind])).toEqual(conditions);
  });
});

describe('parseRule: refused rules', () => {
  const cases: Array<[rule: string, mentions: string]> = [
    ['', 'empty'],
    ['   ', 'empty'],
    [':cmd=ls', 'tool name before ":" is missing'],
    ['bash:', '":" must be followed by conditions'],
    ['bash:   ', '":" must be followed by conditions'],
    ['bash:cmd', 'not of the form key=value'],
    ['bash:=git *', 'no key before "="'],
    ['bash:cmd=', 'empty value'],
    ['bash:cmd=git *, path=', 'empty value'],
    ['bash:my key=x', 'not a valid argument name'],
    ['read[', 'not a valid glob'],
    ['mcp_{a,b', 'not a valid glob'],
    ['write:path=src/[a', 'not a valid glob'],
    ['write:path=src/(a', 'not a valid glob'],
    ['!read', 'negation is not supported'],
    ['write:path=!src/**', 'negation is not supported'],
  ];
  it.each(cases)('%j', (source, mentions) => {
    const message = parseError(source);
    expect(message).toContain(mentions);
    expect(message).toContain(JSON.stringify(source));
  });

  it('refuses a value that is not a string', () => {
    expect(parseError(42 as unknown as string)).toContain('must be a string');
  });
});

describe('parseRule: matching', () => {
  it('matches tool names with globs', () => {
    const cases: Array<[glob: string, tool: string, expected: boolean]> = [
      ['read', 'read', true],
      ['read', 'reader', false],
      ['read', 'Read', false],
      ['mcp_*', 'mcp_github_issue', true],
      ['mcp_*', 'mcp_', true],
      ['mcp_*', 'bash', false],
      ['*', 'anything', true],
      ['{read,list}', 'list', true],
      ['{read,list}', 'glob', false],
      ['re?d', 'read', true],
      ['weird\\:tool', 'weird:tool', true],
    ];
    for (const [glob, tool, expected] of cases) {
      expect([glob, tool, parseRule(glob).matchesTool(tool)]).toEqual([glob, tool, expected]);
    }
  });

  it('matches path values with path globs: * stays in one directory, ./ and .. are normalized', () => {
    const cases: Array<[glob: string, path: string, expected: boolean]> = [
      ['src/*', 'src/a.ts', true],
      ['src/*', 'src/a/b.ts', false],
      ['src/**', 'src/a/b.ts', true],
      ['src/**', 'src', true],
      ['src/**', './src/a.ts', true],
      ['./src/**', 'src/a.ts', true],
      ['src/**', 'src//a.ts', true],
      ['src/**', 'src/.env', true],
      ['src/**', 'src/../etc/passwd', false],
      ['src/**', 'lib/a.ts', false],
      ['src/**', '/abs/src/a.ts', false],
      ['*.md', 'README.md', true],
      ['*.md', 'docs/README.md', false],
      ['**/*.md', 'docs/README.md', true],
      ['src', 'src/', true],
    ];
    for (const [glob, path, expected] of cases) {
      const [condition] = parseRule(`write:path=${glob}`).conditions;
      expect([glob, path, condition!.test(path)]).toEqual([glob, path, expected]);
    }
  });

  it('makes absolute paths inside the working directory relative before matching', () => {
    const [condition] = parseRule('write:path=src/**').conditions;
    expect(condition!.test('/work/repo/src/a.ts', '/work/repo')).toBe(true);
    expect(condition!.test('/work/repo/src/a.ts', '/work/repo/')).toBe(true);
    expect(condition!.test('/work/other/src/a.ts', '/work/repo')).toBe(false);
    expect(condition!.test('/work/repo-src/a.ts', '/work/repo')).toBe(false);
  });

  it('matches command and other values with wildcards across "/" and spaces', () => {
    const [command] = parseRule('bash:cmd=git *').conditions;
    expect(command!.test('git log -- src/a/b.ts')).toBe(true);
    expect(command!.test('GIT log')).toBe(false);
    const [url] = parseRule('fetch:url=https://example.com/*').conditions;
    expect(url!.test('https://example.com/a/b?c=d')).toBe(true);
    expect(url!.test('https://example.org/a')).toBe(false);
  });
});
