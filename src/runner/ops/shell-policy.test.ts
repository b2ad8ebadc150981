import { describe, expect, it } from 'vitest';
import { createShellPolicy, simpleCommands } from './shell-policy.js';

const denyRm = createShellPolicy({ deny: ['rm'] });
const allowLs = createShellPolicy({ allow: ['ls', 'echo', 'cat', 'git status'] });

const refused = (policy: ReturnType<typeof createShellPolicy>, command: string): boolean => {
  try {
    policy.check(command);
    return false;
  } catch (err) {
    expect((err as { code?: string }).code).toBe('invalid_request');
    return true;
  }
};

describe('shell policy', () => {
  it('finds rm wherever the command line hides it', () => {
    for (const command of ['ls; rm -rf x', 'echo $(rm x)', 'echo `rm x`', '(rm x)', 'ls | xargs rm', 'ls && rm x', 'false || rm x',
      'cat <(rm x)', 'echo hi > $(rm x)', '{ rm x; }', 'for f in a; do rm $f; done', 'f() { rm x; }; f', 'if true; then rm x; fi',
      '/bin/rm x', 'r\\m x', "'rm' x", 'env A=1 rm x', 'sudo -u root rm x', 'timeout 5 rm x', 'nice -n 5 rm x', 'xargs -n 1 rm',
      "bash -c 'ls; rm x'", "sh -c \"rm x\"", "eval 'rm x'", 'echo "$(rm x)"', 'x=$(rm y) ls']) {
      expect(refused(denyRm, command), command).toBe(true);
    }
  });

  it('lets through commands that only mention rm as data', () => {
    for (const command of ['ls', 'echo rm', 'ls | grep rm', "echo 'rm -rf /'", 'cat rm.txt', 'rmdir x', 'ls -la; echo ok']) {
      expect(refused(denyRm, command), command).toBe(false);
    }
  });

  it('with an allow list, every simple command must be allowed', () => {
    expect(refused(allowLs, 'ls -la | cat')).toBe(false);
    expect(refused(allowLs, 'git status')).toBe(false);
    expect(refused(allowLs, 'git push')).toBe(true);
    expect(refused(allowLs, 'ls; rm -rf x')).toBe(true);
    expect(refused(allowLs, 'echo $(rm x)')).toBe(true);
    expect(refused(allowLs, 'echo `rm x`')).toBe(true);
    expect(refused(allowLs, '(rm x)')).toBe(true);
    expect(refused(allowLs, 'ls | xargs rm')).toBe(true);
  });

  it('refuses commands whose name is not a literal, and invalid syntax, when a list is set', () => {
    expect(refused(denyRm, '$CMD x')).toBe(true);
    expect(refused(denyRm, '$(echo rm) x')).toBe(true);
    expect(refused(denyRm, 'bash -c "$S"')).toBe(true);
    expect(refused(denyRm, 'echo (')).toBe(true);
    expect(refused(denyRm, 'echo $HOME')).toBe(false);
    expect(refused(denyRm, `echo ${'x'.repeat(70_000)}`)).toBe(true);
  });

  it('is inactive without patterns', () => {
    const none = createShellPolicy({});
    expect(none.active).toBe(false);
    expect(() => none.check('rm -rf x; $(anything')).not.toThrow();
  });

  it('matches patterns with wildcards and word boundaries', () => {
    const policy = createShellPolicy({ deny: ['git push*', 'curl * | *'] });
    expect(refused(policy, 'git push origin main')).toBe(true);
    expect(refused(policy, 'git pushx')).toBe(true);
    expect(refused(policy, 'git pull')).toBe(false);
    const exact = createShellPolicy({ deny: ['git push'] });
    expect(refused(exact, 'git push --force')).toBe(true);
    expect(refused(exact, 'git pushy')).toBe(false);
  });

  it('lists simple commands with literal words', () => {
    expect(simpleCommands('ls -la | xargs rm -f').map((c) => c.words)).toEqual([['ls', '-la'], ['xargs', 'rm', '-f'], ['rm', '-f']]);
    expect(simpleCommands('echo "$HOME" x').map((c) => c.words)).toEqual([['echo', null, 'x']]);
  });
});
