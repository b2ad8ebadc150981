import { describe, expect, it } from 'vitest';
import { readCommand } from './command-parts.js';
import { evaluate, type PermissionAction } from './evaluate.js';
import { perms } from './test-helpers.js';

const bash = (command: string) => ({ name: 'bash', args: { command } });
const partsOf = (command: string): string[] => {
  const reading = readCommand(command);
  return reading.ok ? reading.parts.map((p) => p.text) : [`<unparseable: ${reading.reason}>`];
};

describe('readCommand (the shared shell parser)', () => {
  const cases: Array<[command: string, parts: string[]]> = [
    ['git status', ['git status']],
    ['  git status  ', ['git status']],
    ['ls; rm -rf x', ['ls', 'rm -rf x']],
    ['echo $(rm x)', ['echo $(rm x)', 'rm x']],
    ['echo `rm x`', ['echo `rm x`', 'rm x']],
    ['(rm x)', ['rm x']],
    ['ls | xargs rm', ['ls', 'xargs rm', 'rm']],
    ['git commit -m "a; b"', ['git commit -m a; b']],
    ["bash -c 'ls; rm x'", ['bash -c ls; rm x', 'ls', 'rm x']],
    ['X=1 git fetch', ['X=1 git fetch']],
    ['PATH=/tmp/x; git status', ['PATH=/tmp/x', 'git status']],
    ['git log > notes.txt 2>&1', ['git log', 'notes.txt']],
    ['git log 2>/dev/null >&2 3>&-', ['git log']],
    ['cat <<EOF\nhi\nEOF', ['cat']],
    ['# only a comment', ['# only a comment']],
    ['', ['']],
  ];
  it.each(cases)('%j → %j', (command, parts) => {
    expect(partsOf(command)).toEqual(parts);
  });

  it('reports a line it cannot parse, and offers only the whole line to deny rules', () => {
    const reading = readCommand('echo (');
    expect(reading.ok).toBe(false);
    expect(reading.candidates).toEqual(['echo (']);
    expect(readCommand(`echo ${'x'.repeat(70_000)}`).ok).toBe(false);
  });

  it('gives deny rules each command with and without its assignments', () => {
    expect(readCommand('X=1 rm -rf / && ls').candidates).toEqual(['X=1 rm -rf / && ls', 'X=1 rm -rf /', 'rm -rf /', 'ls']);
  });
});

describe('evaluate: an allow rule covers only the simple commands it names', () => {
  const allow = ['bash:cmd=ls', 'bash:cmd=ls *', 'bash:cmd=echo *', 'bash:cmd=git *'];
  const cases: Array<[command: string, action: PermissionAction]> = [
    ['ls', 'allow'],
    ['ls -la | echo done', 'allow'],
    ['ls; rm -rf x', 'ask'],
    ['echo $(rm x)', 'ask'],
    ['echo "$(rm x)"', 'ask'],
    ['echo `rm x`', 'ask'],
    ['(rm x)', 'ask'],
    ['{ rm x; }', 'ask'],
    ['ls | xargs rm', 'ask'],
    ['ls && sudo rm x', 'ask'],
    ["bash -c 'ls; rm x'", 'ask'],
    ['echo hi > $(rm x)', 'ask'],
    ['ls <(rm x)', 'ask'],
    ['for f in a; do rm $f; done', 'ask'],
    ['f() { rm x; }; f', 'ask'],
    ['$CMD x', 'ask'],
    ['PATH=/tmp/evil; git status', 'ask'],
    ['GIT_SSH_COMMAND=evil git fetch', 'ask'],
    ['git commit -m "a; b && c"', 'allow'],
    ["echo 'rm -rf /'", 'allow'],
  ];
  it.each(cases)('allow ls, ls *, echo *, git *: %j → %s', (command, action) => {
    expect(evaluate(perms({ policy: 'balanced', allow }), bash(command)).action).toBe(action);
  });

  it('a deny rule meets rm wherever the parser finds it', () => {
    const deny = perms({ policy: 'autonomous', deny: ['bash:cmd=rm *'] });
    for (const command of ['ls; rm -rf x', 'echo $(rm x)', 'echo `rm x`', '(rm x)', 'ls | xargs rm -f', "sh -c 'rm x'", "'rm' -rf x", 'x=$(rm y) ls']) {
      expect(evaluate(deny, bash(command)).action, command).toBe('deny');
    }
    expect(evaluate(deny, bash('ls | grep rm')).action).toBe('allow');
  });
});

describe('evaluate: a command line that does not parse', () => {
  it('is asked, never allowed by a command rule', () => {
    const verdict = evaluate(perms({ policy: 'balanced', allow: ['bash:cmd=ls *'] }), bash('ls $(rm x'));
    expect(verdict.action).toBe('ask');
    expect(verdict.reason).toContain('cannot be checked against its rules');
  });

  it('is asked under the autonomous policy and auto-approve when a command rule names the tool', () => {
    const denyRm = { deny: ['bash:cmd=rm *'] };
    expect(evaluate(perms({ policy: 'autonomous', ...denyRm }), bash('ls; rm -rf x; (')).action).toBe('ask');
    expect(evaluate(perms({ auto_approve: true, ...denyRm }), bash('ls; rm -rf x; (')).action).toBe('ask');
    expect(evaluate(perms({ policy: 'autonomous', ask: ['bash:cmd=git push*'] }), bash('git push; )')).action).toBe('ask');
    // The whole line still meets deny rules.
    expect(evaluate(perms({ policy: 'autonomous', ...denyRm }), bash('rm -rf x; (')).action).toBe('deny');
  });

  it('is asked even with an allow rule for the whole tool when a deny rule would have to read it', () => {
    // bash runs the first line before it meets the syntax error on the last one.
    expect(evaluate(perms({ allow: ['bash'], deny: ['bash:cmd=rm *'] }), bash('ls\nrm -rf x\n(')).action).toBe('ask');
  });

  it('is left to the policy or a rule on the whole tool when no rule looks into commands', () => {
    expect(evaluate(perms({ policy: 'autonomous' }), bash('echo (')).action).toBe('allow');
    expect(evaluate(perms({ policy: 'balanced' }), bash('echo (')).action).toBe('ask');
    expect(evaluate(perms({ allow: ['bash'] }), bash('echo (')).action).toBe('allow');
  });
});

describe('readCommand on junk and huge lines', () => {
  // Each must come back (parsed or refused) without throwing or holding the loop: a long pipeline used to
  // overflow the parser's stack, and 16k words took most of a second.
  const lines: Record<string, string> = {
    'a 3,000-stage pipeline': `${'a | '.repeat(3000)}b`,
    '16,000 words': `echo ${'abc '.repeat(16_000)}`,
    '10,000 nested $(': '$('.repeat(10_000),
    'quote and operator junk': Array.from({ length: 60_000 }, (_, i) => '$(`"\'{;|&<>x '[i % 14]).join(''),
    'a deep if chain': 'if a; then '.repeat(6000),
    'many small commands': 'a;'.repeat(400),
  };
  for (const [what, line] of Object.entries(lines)) {
    it(`refuses ${what} as unreadable, so no rule can allow it`, () => {
      const reading = readCommand(line);
      expect(reading.ok).toBe(false);
      if (!reading.ok) expect(reading.candidates).toContain(line);
    });
  }

  it('still reads an ordinary long command line', () => {
    const files = Array.from({ length: 200 }, (_, i) => `src/file-${i}.ts`).join(' ');
    const reading = readCommand(`git add ${files} && git commit -m "many files" 2>&1 | tail -5`);
    expect(reading.ok).toBe(true);
    if (reading.ok) expect(reading.parts.map((p) => p.text)).toEqual([`git add ${files}`, 'git commit -m many files', 'tail -5']);
  });
});
